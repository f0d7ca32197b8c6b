"""A past lot opened from its archive (viewer, read-only): ``/api/lots/{lot_id}/segments|detections|samples|
trends|segments/{i}/spectrum|detections/{i}/thumbnail.png``, and the live lot's event markers (``/api/markers``).

The catalogue's queries object (``history``) reads the archive its row points to; this router only maps its
answers to HTTP: 404 for a lot the catalogue does not hold (or no catalogue), 410 with the reason when the lot's
archive is missing or unreadable (its catalogue row stays, ``GET /api/lots/{lot_id}`` still answers).
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at definition time.
from typing import Annotated, Any, Callable

from fastapi import APIRouter, Depends, HTTPException, Path as PathParam, Query, Response

from analysis.decide import MARKER_KINDS, trend_markers
from analysis.model import ControlRoomLine
from analysis.web.evidence import plain, thumbnail_png
from analysis.web.auth import Identity
from analysis.web.roles import Guards, Responses
from analysis.web.schemas import ErrorBody

LotId = Annotated[str, PathParam(max_length=200)]
Index = Annotated[int, PathParam(ge=0, le=10_000_000)]


def read_archive(history: Any, lot_id: str, view: str, *args: Any) -> Any:
    """``history.from_archive(...)`` with its failures as HTTP errors (404 unknown lot, 410 archive unavailable)."""
    if history is None:
        raise HTTPException(404, "no lot catalogue is attached to this control room")
    try:
        return history.from_archive(lot_id, view, *args)
    except KeyError as exc:  # the catalogue does not hold the lot
        raise HTTPException(404, str(exc)) from None
    except LookupError as exc:  # its archive is missing or unreadable
        raise HTTPException(410, str(exc)) from None


def live_markers(service: ControlRoomLine) -> dict[str, Any]:
    """The current lot's markers (its alarms and increments) and the legend of marker kinds."""
    snap = service.monitor.snapshot()
    alarms = [a for a in service.alarms.all() if not a.lot_id or a.lot_id == snap.lot_id]
    return {"lot_id": snap.lot_id, "markers": trend_markers(alarms, snap.increments), "legend": MARKER_KINDS}


def past_lots_router(history: Any, service: ControlRoomLine, guards: Guards, errors: Responses) -> APIRouter:
    """Routes of a past lot's panels, read from its archive, and the live lot's markers (viewer)."""
    router = APIRouter(tags=["history"])
    Viewer = Annotated[Identity, Depends(guards.require_viewer)]
    errs: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}, 410: {"model": ErrorBody}, **errors}

    def get(path: str, doc: str, view: str, post: Callable[[Any], Any] = plain) -> None:
        def endpoint(_: Viewer, lot_id: LotId) -> Any:
            return post(read_archive(history, lot_id, view))
        endpoint.__doc__ = doc
        router.add_api_route(path, endpoint, methods=["GET"], response_model=None, responses=errs,
                             name=f"past_lot_{view}")

    get("/api/lots/{lot_id}/segments", "A past lot's decided segments (as /api/segments), from its archive.",
        "segments", lambda rows: plain(rows, max_list=5000))
    get("/api/lots/{lot_id}/samples", "A past lot's sampler increments (routine and targeted), from its archive.",
        "increments", lambda rows: {"increments": plain(rows, max_list=5000), "total": len(rows)})
    get("/api/lots/{lot_id}/trends", "A past lot's whole trends: belt rate, NIR p(waste), belt stops and event "
        "markers, from its archive.", "trends",
        lambda t: {**plain(t, max_list=100_000), "legend": MARKER_KINDS})

    @router.get("/api/lots/{lot_id}/detections", response_model=list[dict[str, Any]], responses=errs)
    def past_detections(_: Viewer, lot_id: LotId, since: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                        limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
        """A past lot's camera detections from index ``since`` (metadata; thumbnails by URL)."""
        rows = read_archive(history, lot_id, "detections")[since:since + limit]
        base = f"/api/lots/{lot_id}/detections/"
        return [{**plain(d), "thumbnail_url": f"{base}{d['index']}/thumbnail.png"} for d in rows]

    @router.get("/api/lots/{lot_id}/detections/{index}/thumbnail.png", response_class=Response,
                responses={200: {"content": {"image/png": {}}}, **errs})
    def past_thumbnail(_: Viewer, lot_id: LotId, index: Index) -> Response:
        """A past lot's detection thumbnail as PNG."""
        image = read_archive(history, lot_id, "thumbnail", index)
        if image is None:
            raise HTTPException(404, f"lot {lot_id[:80]!r} has no detection {index} with a thumbnail")
        return Response(thumbnail_png(image), media_type="image/png",
                        headers={"Cache-Control": "private, max-age=3600"})

    @router.get("/api/lots/{lot_id}/segments/{index}/spectrum", response_model=dict[str, Any], responses=errs)
    def past_spectrum(_: Viewer, lot_id: LotId, index: Index) -> dict[str, Any]:
        """Mean ± sd NIR reflectance of a past lot's segment and its identification, from its archive."""
        out = read_archive(history, lot_id, "spectrum", index)
        if out is None:
            raise HTTPException(404, f"lot {lot_id[:80]!r}: no valid NIR spectra in segment {index}")
        return plain(out, max_list=5000)

    @router.get("/api/markers", response_model=dict[str, Any], responses=errors, tags=["line"])
    def get_live_markers(_: Viewer) -> dict[str, Any]:
        """The current lot's event markers for its trends (alarms, faults, increments) and their legend."""
        return plain(live_markers(service), max_list=100_000)
    return router


__all__ = ["past_lots_router", "live_markers", "read_archive"]
