"""sampler: ISO 3082 sampling plans, the sampling robot, chain of custody and lab results.

Public API (import from the submodules; nothing here imports a robot backend):

* :mod:`sampler.plan` — :func:`make_plan`, :class:`SamplingPlan`; values from :mod:`sampler.iso3082`.
* :mod:`sampler.robot` — :class:`Robot`, :class:`CutStatus`, :func:`create_robot`, backends
  ``simulated`` (:mod:`sampler.robot_sim`) and ``modbus`` (:mod:`sampler.robot_modbus`);
  the register block in :mod:`sampler.robot_registers`.
* :mod:`sampler.station` — :func:`from_config`, :class:`SamplerStation`.
* :mod:`sampler.custody` — increments, samples, chain of custody, CSV.
* :mod:`sampler.lab` — :func:`load_lab_results` (assays, units, XRD phases, impossible values, supersede).
* :mod:`sampler.labrules` — the lab decision per sample (:func:`classify`, the rule table :data:`RULES`).
* :mod:`sampler.labtable` — published compositions and the rule set's score on them.
* :mod:`sampler.labsim` — simulated assays of a simulated lot's samples from the cargo truth.
* :mod:`sampler.cli` — ``cli_plan``, ``cli_custody``, ``cli_lab_import``, ``cli_lab_rules``.
"""
