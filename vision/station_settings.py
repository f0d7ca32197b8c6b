"""The camera station's site-file keys (``[stations.<name>]`` with ``kind = "camera"``), apart from the station
itself so that checking a site file does not load the detector (``oreline config check``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from conveyor.config import Field, StationSettings, intervals_t

#: Whether the line's station (its ``belt_edge`` key), ``vision.sim_eval.evaluate`` and ``bench_vision_scenes`` tell
#: the detector the belt's width by default (``Detector.belt_width_m``; docs/vision.md "Candidates off the belt": off
#: while its pre-registered rule is not met).
BELT_EDGE = False
#: Whether the line's station (its ``exposure_norm`` key), ``vision.sim_eval.evaluate``, ``oreline vision evaluate
#: --labelled`` and ``bench_vision_scenes`` darken frames brighter than the fit's range by default
#: (:mod:`vision.exposure`; docs/vision.md "Exposure normalisation": set by its pre-registered rule, expo43).
EXPOSURE_NORM = False
#: Whether every detector (``Detector.local_load``: the line's station unless its ``local_load`` key says otherwise,
#: ``vision.sim_eval.evaluate``, ``bench_vision_scenes`` unless ``--local-load``) judges each candidate at the lower of the whole belt's load and the ore's share around it by default
#: (``Detector.local_load``, :func:`vision.regime.local_load`; docs/vision.md "Local load": off while its
#: pre-registered rule, zone44, is not met).
LOCAL_LOAD = False
#: Whether every detector of a union model (``Detector.full_burden_judge``: the line's station unless its
#: ``full_burden_judge`` key says otherwise, ``vision.sim_eval.evaluate``, ``bench_vision_scenes`` unless
#: ``--full-burden-judge``) leaves the features' candidates at full burden (load >= ``vision.decision.LOAD_EDGE``) to
#: the union's second judge alone by default (docs/vision-experiments.md "The base classifier only on part-loaded
#: belt": on since its pre-registered rule, JUDGE46B, held on fresh seeds 211 / 212 and 221 / 222).
FULL_BURDEN_JUDGE = True
#: Whether every detector of a union model (``Detector.wood_evidence``: the line's station unless its ``wood_evidence``
#: key says otherwise, ``vision.sim_eval.evaluate``, ``bench_vision_scenes`` unless ``--wood-evidence``) also reports a
#: features' candidate at a part-loaded load (< ``vision.decision.LOAD_EDGE``) on the second judge's odds of wood
#: against "none" by default (:mod:`vision.decision_wood`; docs/vision-experiments.md "Wood evidence on part-loaded
#: belt": on since its pre-registered rule, RULE_TODAY51, held on fresh seeds 241 / 242).
WOOD_EVIDENCE = True
#: Whether every detector of a union model (``Detector.kind_evidence``: the line's station unless its ``kind_evidence``
#: key says otherwise, ``vision.sim_eval.evaluate``, ``bench_vision_scenes`` unless ``--kind-evidence``) also reports a
#: candidate at full burden (load >= ``vision.decision.LOAD_EDGE``) that the second judge judges alone on the judge's
#: odds of a kind against "none" by default (:mod:`vision.decision_kind`; docs/vision-experiments.md "Kind evidence at
#: full burden": on since its pre-registered rule, RULE_KIND51, held on fresh seeds 251 / 252).
KIND_EVIDENCE = True
#: Whether every detector of a union model (``Detector.split_merged``: the line's station unless its ``split_merged`` key says otherwise,
#: ``vision.sim_eval.evaluate``, ``bench_vision_scenes`` unless ``--split-merged``) splits a features' candidate left
#: unreported whose cells fall into two colour groups (merged with the belt around it) and judges its pieces by
#: default (:mod:`vision.split`; docs/vision-experiments.md "Candidates merged with the belt, split by colour": on
#: since its pre-registered rule, RULE_SPLIT53, held on fresh seeds 261 / 262).
SPLIT_MERGED = True
#: Whether every detector (``Detector.group_fragments``: the line's station unless its ``group_fragments`` key says
#: otherwise, ``vision.sim_eval.evaluate``, ``bench_vision_scenes`` unless ``--group-fragments``) also judges the seeded
#: components within :data:`vision.fragments.GAP_MM` of each other at full burden as one candidate, the visible pieces
#: of a partly buried object, reported on the groups' own judge and level (:mod:`vision.fragments`,
#: :mod:`vision.decision_groups`; docs/vision-experiments.md "Fragments of a partly buried object judged together":
#: its pre-registered rule RULE_FRAG53 failed on fresh seeds 271 / 272: a false alarm added on object-free realistic
#: belt, +10 % CPU per frame; "Fragment groups with a judge of their own": RULE_GRP54 held on fresh seeds 281 / 282,
#: realistic +2, no false alarm added, CPU 1.012 x, station 140.8 m/s; held off while the thin sticks were to ship
#: (together the station fell to 132.6 m/s idle, RULE_COMBINED54's C3); on alone since session 55's addendum B held:
#: the demo's lot unchanged segment by segment and the whole suite passing with it on).
GROUP_FRAGMENTS = True
#: Whether every detector (``Detector.thin_sticks``: the line's station unless its ``thin_sticks`` key says otherwise,
#: ``bench_vision_scenes`` unless ``--thin-sticks``) also reports the thin sticks it sees at pixel scale on part-loaded
#: belt (load < ``vision.decision.LOAD_EDGE``) as wood, none under a reported object, and as uncertain where a candidate
#: of the 8 mm cells or a lump's detection lies near one (:mod:`vision.sticks`; docs/vision-experiments.md "Thin sticks
#: at pixel scale": on. Its pre-registered rule,
#: RULE_THIN54, held on fresh seeds 291 / 292 (T1-T3) and on the coordinator's idle re-measurement of the line station
#: (T4, 139.8 m/s), but the demo's lot showed a side-lit ore lump (322 mm, not contamination) reported as two "wood"
#: sticks beside its own "lump" detection, turning an ore segment contaminated: the rule measured recall and false
#: alarms on object-free belt, not what it makes of lumps. thin55 mended the demo's case ("Thin sticks kept off ore
#: lumps"), but RULE_THIN55's T5a failed: 1 stick reported by a lump in 1,008 m of fresh lumps-only belt; stick56
#: reports the sticks near a candidate or lump as uncertain: RULE_STICK56's S1-S5 held on fresh 351 / 352 / 353, its
#: station figure S6 could not be shown on the machine of that day ("stick56"); on since session 56's addendum E
#: repeated S6 on a machine that ran the base code at >= 135 m/s: 136.2 m/s over six rounds, CPU per frame 1.090 x
#: today's, 1.008 x realistic).
THIN_STICKS = True
#: Whether every detector of a union model (``Detector.wood_judge``: the line's station unless its ``wood_judge`` key
#: says otherwise, ``vision.sim_eval.evaluate``, ``bench_vision_scenes`` unless ``--wood-judge``) also reports a
#: features' candidate at a part-loaded load (< ``vision.decision.LOAD_EDGE``) that the decision leaves unreported as
#: wood when the wood judge's score reaches its level (:mod:`vision.wood_judge`; docs/vision-experiments.md "Wood on
#: today's belt judged against the belt": off, its pre-registered rule RULE_WOOD54 failed on fresh seeds 301 / 302: a
#: false alarm added on object-free today's belt, the line station under 138 m/s at the machine's load).
WOOD_JUDGE = False
#: Whether every detector (``Detector.lump_judge``: the line's station unless its ``lump_judge`` key says otherwise,
#: ``bench_vision_scenes`` and ``bench_vision_kinds`` unless ``--lump-judge``) reports a candidate that the kind rule
#: calls a foreign kind as uncertain instead when the lump judge, a boosted model of ore lump against foreign object
#: fitted on the fit split, reaches its level (:mod:`vision.lump_judge`; docs/vision-experiments.md "lump55": its rule
#: failed by one lump; "lump57": refitted with more of today's lumps, its rule held but it made every thin stick
#: uncertain, which cost real wood found by a stick alone its contaminating kind (addendum F); "lump58": on since
#: session 56, judging the classifiers' foreign calls only: RULE_LUMP58 held on fresh 381 / 382, lumps called foreign
#: 31 -> 11, 1.18 % of foreign objects moved to uncertain, 1.45 % of found part-loaded objects lose their kind).
LUMP_JUDGE = True
#: Whether ``bench_vision_scenes`` runs the metal bar evidence (:mod:`vision.metal_bars`, ``Detector.metal_bars``, None
#: in every detector unless set) by default (its ``--metal-bars``; docs/vision-experiments.md "Metal bars on the
#: realistic belt": off, its development gain, one object over two seeds, too small for a rule).
METAL_BARS = False

#: Every key of ``[stations.<name>]`` with ``kind = "camera"``: shared, then per backend.
SETTINGS = StationSettings(
    kind="camera",
    doc="Line-scan camera and foreign-object detector (vision/station.py).",
    fields={
        "mm_per_px": Field(float, 1.0, min=0.0, min_exclusive=True, max=100.0, doc="Belt millimetres per pixel."),
        "width_px": Field(int, 2048, min=16, max=65536, doc="Pixels across the belt."),
        "frame_lines": Field(int, 1024, min=1, max=1 << 20, doc="Lines per frame."),
        "exposure_us": Field(float, 100.0, min=0.0, min_exclusive=True, max=1e7, doc="Exposure, us."),
        "imaged_fraction": Field(float, 1.0, min=0.0, min_exclusive=True, max=1.0,
                                 doc="Share of belt windows imaged, evenly spread; the rest is uninspected (not imaged)."),
        "model": Field(str, "", doc="Saved vision model (.npz); empty: fitted for the scale and cached."),
        "belt_edge": Field(bool, BELT_EDGE, doc="Candidates centred beyond the belt's edge (the line's belt_width_m, the belt "
                                                "centred in the image) are counted, not reported as objects."),
        "exposure_norm": Field(bool, EXPOSURE_NORM, doc="Frames whose ore is brighter than the model was fitted on are darkened "
                                                        "back into the fit's range before detection (vision/exposure.py)."),
        "local_load": Field(bool, LOCAL_LOAD, doc="Each candidate is judged at the lower of the whole belt's load and the ore's "
                                                  "share in its neighbourhood (+-200 mm across, 4 m along; vision/regime.py)."),
        "full_burden_judge": Field(bool, FULL_BURDEN_JUDGE, doc="With the union model: a features' candidate at full burden "
                                                                "(load >= 0.9) is judged by the union's second judge alone, not "
                                                                "also by the base classifier (part-loaded belt as before)."),
        "wood_evidence": Field(bool, WOOD_EVIDENCE, doc="With the union model: a features' candidate at a part-loaded load "
                                                        "(< 0.9) is also reported when the second judge's odds of wood against "
                                                        "'none' reach their level (vision/decision_wood.py)."),
        "kind_evidence": Field(bool, KIND_EVIDENCE, doc="With the union model: a candidate at full burden (load >= 0.9) that the "
                                                        "second judge judges alone is also reported when the judge's odds of a kind "
                                                        "against 'none' reach that kind's level (vision/decision_kind.py)."),
        "split_merged": Field(bool, SPLIT_MERGED, doc="With the union model: a features' candidate left unreported whose cells fall into two colour "
                                                      "groups (merged with the belt around it) is split into the connected "
                                                      "pieces of each group, each judged as a candidate (vision/split.py)."),
        "group_fragments": Field(bool, GROUP_FRAGMENTS, doc="At full burden (load >= 0.9) seeded components within 32 mm of "
                                                            "each other (the visible pieces of a partly buried object) are also "
                                                            "judged together as one candidate where the objectness reaches 1.0 above its "
                                                            "seed level, reported on the groups' own judge and level unless a reported "
                                                            "object lies on it (vision/fragments.py, vision/decision_groups.py)."),
        "thin_sticks": Field(bool, THIN_STICKS, doc="On part-loaded belt (load < 0.9) straight lines of low-green pixels 44 mm "
                                                    "long (sticks 10-25 mm wide that the 8 mm cells average away) are also "
                                                    "reported as wood, none under a reported object, as uncertain (a warning "
                                                    "and a targeted increment) near a candidate or an ore lump (vision/sticks.py)."),
        "wood_judge": Field(bool, WOOD_JUDGE, doc="With the union model: a features' candidate at a part-loaded load (< 0.9) "
                                                  "left unreported is also reported as wood when the wood judge, a boosted model of "
                                                  "wood against the belt fitted on the fit split, reaches its level (vision/wood_judge.py)."),
        "lump_judge": Field(bool, LUMP_JUDGE, doc="A candidate the kind rule calls a foreign kind is reported as 'uncertain' "
                                                  "(a warning and a targeted increment, not contamination) when the lump judge, "
                                                  "a boosted model of ore lump against foreign object fitted on the fit split, "
                                                  "reaches its level; never as 'lump' (vision/lump_judge.py)."),
        "appearance_limit": Field(float, None, min=0.0, min_exclusive=True, max=1.0,
                                  doc="Share of belt cells unlike the fitted ore above which the camera raises a 'vision appearance' "
                                      "alarm and its windows are uninspected while it lasts (default: calibrated on fit frames)."),
        "models": Field(dict, {}, doc="Declared product = saved model path (.npz, e.g. from vision fit --images): a lot "
                                      "uses its declared product's model, else model."),
    },
    backends={
        "simulated": {
            "sim_mm_per_px": Field(float, None, min=0.0, min_exclusive=True, max=100.0,
                                   doc="Rendering/detection scale of the simulated line (default: mm_per_px)."),
            "tiles": Field(str, "heldout", doc="Ore tiles of the simulated scene: heldout, fit, all or a folder."),
            "fault": Field(dict, {}, doc="Simulated faults.", table={
                "frame_loss_at_t": Field(list, [], check=intervals_t,
                                         doc="[start, end] lot-relative tonnes where every frame is lost."),
                "frame_loss_prob": Field(float, 0.0, min=0.0, max=0.999, doc="Probability that a frame is lost."),
            }),
        },
        "folder": {"folder": Field(str, doc="Image folder to replay.")},
        "aravis": {"address": Field(str, doc="GigE Vision camera IP address.")},
    },
)

#: The camera's boolean keys the station turns into detector state of another form itself (``belt_edge``: the belt's
#: width, ``Detector.belt_width_m``; ``exposure_norm``: ``Detector.exposure``); every other boolean key of
#: :data:`SETTINGS` is a detector switch.
STATION_SWITCHES = ("belt_edge", "exposure_norm")
#: The detector's run-time switches: the boolean keys of :data:`SETTINGS` that are ``Detector`` attributes of the same
#: name, in the table's order. The station sets each on its detector (:class:`DetectorSwitches`), ``bench_vision_scenes``
#: offers each as ``--key-name on|off``: a new switch is its ``Field`` in :data:`SETTINGS`, nothing more here.
DETECTOR_SWITCHES = tuple(key for key, f in SETTINGS.fields.items() if f.type is bool and key not in STATION_SWITCHES)


class DetectorSwitches(Mapping[str, bool]):
    """The value of every :data:`DETECTOR_SWITCHES` key, held once (read-only): those given, the others their
    setting's default. Raises TypeError naming a key that is no detector switch."""

    __slots__ = ("_on",)

    def __init__(self, given: Mapping[str, Any] | None = None) -> None:
        given = dict(given or {})
        unknown = sorted(set(given) - set(DETECTOR_SWITCHES))
        if unknown:
            raise TypeError(f"not a detector switch: {', '.join(unknown)} (the switches: {', '.join(DETECTOR_SWITCHES)})")
        self._on = {key: bool(given.get(key, SETTINGS.fields[key].default)) for key in DETECTOR_SWITCHES}

    @classmethod
    def from_settings(cls, cfg: Mapping[str, Any]) -> "DetectorSwitches":
        """The switches of a station's validated settings (:meth:`StationSettings.validate` of :data:`SETTINGS`)."""
        return cls({key: cfg[key] for key in DETECTOR_SWITCHES})

    def __getitem__(self, key: str) -> bool:
        return self._on[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._on)

    def __len__(self) -> int:
        return len(self._on)

    def __repr__(self) -> str:
        return f"DetectorSwitches({self._on!r})"

    def apply(self, detector: object) -> None:
        """Set each switch on ``detector`` (its attribute of the same name). Raises AttributeError, setting none, naming
        the switches the detector has no attribute for (keys in :data:`SETTINGS` the detector never reads)."""
        missing = [key for key in self._on if not hasattr(detector, key)]
        if missing:
            raise AttributeError(f"{type(detector).__name__} has no attribute for the camera's detector switch(es) "
                                 f"{', '.join(missing)}")
        for key, on in self._on.items():
            setattr(detector, key, on)


__all__ = ["BELT_EDGE", "DETECTOR_SWITCHES", "DetectorSwitches", "EXPOSURE_NORM", "FULL_BURDEN_JUDGE", "GROUP_FRAGMENTS", "KIND_EVIDENCE",
           "LOCAL_LOAD", "LUMP_JUDGE", "METAL_BARS", "SETTINGS", "SPLIT_MERGED", "STATION_SWITCHES", "THIN_STICKS", "WOOD_EVIDENCE",
           "WOOD_JUDGE"]
