"""The control room's history: lots across the catalogue, one lot's record, the alarm journal, the lab queue.

``GET /api/lots`` (search and filters), ``/api/lots/{lot_id}`` (lot row, alarms, events, commands),
``/api/lots/{lot_id}/report/{html|pdf}``, ``/api/journal/alarms`` (filterable alarm history across lots),
``/api/journal/lab`` (every closed lot awaiting assays), ``POST /api/alarms/acknowledge-all`` and
``POST /api/alarms/{id}/shelve``. ``history`` is any object with the methods of
``analysis.catalogue.CatalogueQueries`` (handed over by the composition root); None answers 404.
"""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at definition time.
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, Protocol

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from analysis.errors import AlarmError
from analysis.model import to_dict
from analysis.web.auth import Identity
from analysis.web.roles import Guards, Responses
from analysis.web.schemas import ErrorBody


_TEXT = r"^[^\x00-\x1f\x7f]*$"


class AcknowledgeAllRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=64, pattern=_TEXT, description="Who acknowledges.")
    comment: str = Field("", max_length=300, pattern=_TEXT)


class ShelveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=64, pattern=_TEXT)
    reason: str = Field(min_length=1, max_length=300, pattern=_TEXT, description="Why the alarm is shelved.")
    duration_s: float = Field(gt=0, le=24 * 3600, allow_inf_nan=False, description="Shelved until now + this, s.")


class LotHistory(Protocol):
    """What the history endpoints read (``analysis.catalogue.CatalogueQueries`` implements it)."""

    def lots(self, **filters: Any) -> list[dict[str, Any]]: ...
    def lot(self, lot_id: str) -> dict[str, Any] | None: ...
    def alarms(self, **filters: Any) -> list[dict[str, Any]]: ...
    def lab_queue(self) -> list[dict[str, Any]]: ...


def _need(history: LotHistory | None) -> LotHistory:
    if history is None:
        raise HTTPException(404, "no lot catalogue is attached to this control room")
    return history


def history_router(history: LotHistory | None, guards: Guards, errors: Responses) -> APIRouter:
    """Lots, lot records and reports, the alarm history and the lab queue from the catalogue (viewer)."""
    router = APIRouter(tags=["history"])
    Viewer = Annotated[Identity, Depends(guards.require_viewer)]
    errors = {404: {"model": ErrorBody}, **errors}  # 404: no catalogue attached, unknown lot or report

    @router.get("/api/lots", response_model=list[dict[str, Any]], responses=errors)
    def get_lots(_: Viewer, q: Annotated[str, Query(max_length=100)] = "",
                 vessel: Annotated[str, Query(max_length=100)] = "",
                 verdict: Annotated[str, Query(max_length=20)] = "",
                 lab_status: Annotated[str, Query(max_length=20)] = "",
                 since_epoch_s: float | None = None, until_epoch_s: float | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[dict[str, Any]]:
        """Lots of the catalogue, newest first: search (lot id, vessel, product) and filters."""
        return _need(history).lots(text=q, vessel=vessel, verdict=verdict, lab_status=lab_status,
                                   since_epoch_s=since_epoch_s, until_epoch_s=until_epoch_s, limit=limit,
                                   offset=offset)

    @router.get("/api/lots/{lot_id}", response_model=dict[str, Any], responses=errors)
    def get_lot(_: Viewer, lot_id: Annotated[str, PathParam(max_length=200)]) -> dict[str, Any]:
        """One lot: its row, alarms, events and operator commands."""
        out = _need(history).lot(lot_id)
        if out is None:
            raise HTTPException(404, f"no lot {lot_id[:80]!r} in the catalogue")
        return out

    @router.get("/api/lots/{lot_id}/report/{fmt}", response_class=FileResponse, responses=errors)
    def get_lot_report(_: Viewer, lot_id: Annotated[str, PathParam(max_length=200)],
                       fmt: Literal["html", "pdf"]) -> FileResponse:
        """A past lot's report file (the path the catalogue holds)."""
        out = _need(history).lot(lot_id)
        path = (out or {}).get("lot", {}).get(f"report_{fmt}") or ""
        if not path or not Path(path).is_file():
            raise HTTPException(404, f"no {fmt} report for lot {lot_id[:80]!r}")
        return FileResponse(path, media_type="text/html" if fmt == "html" else "application/pdf",
                            filename=f"{lot_id}.{fmt}")

    @router.get("/api/journal/alarms", response_model=list[dict[str, Any]], responses=errors)
    def get_alarm_history(_: Viewer, lot_id: Annotated[str, Query(max_length=200)] = "",
                          state: Annotated[str, Query(max_length=20)] = "",
                          severity: Annotated[str, Query(max_length=20)] = "",
                          category: Annotated[str, Query(max_length=40)] = "",
                          since_epoch_s: float | None = None,
                          limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, Any]]:
        """The alarm journal across lots, newest first, filtered."""
        return _need(history).alarms(lot_id=lot_id, state=state, severity=severity, category=category,
                                     since_epoch_s=since_epoch_s, limit=limit)

    @router.get("/api/journal/lab", response_model=list[dict[str, Any]], responses=errors)
    def get_lab_queue(_: Viewer) -> list[dict[str, Any]]:
        """Every closed lot awaiting assays (across lots and lines), oldest first."""
        return _need(history).lab_queue()
    return router


def _by(who: Any, text: str) -> str:
    """Who the alarm book records: a logged-in operator's account name, else the request's ``by`` (tokens)."""
    return who.person if getattr(who, "via", "") == "session" else text


def alarm_commands_router(service: Any, guards: Guards, errors: Responses,
                          audit: Callable[..., None] = lambda *a, **k: None) -> APIRouter:
    """Acknowledge-all and shelving (operator); ``audit(who, action, outcome, detail)`` records each command."""
    router = APIRouter(tags=["alarms", "commands"])
    Operator = Annotated[Identity, Depends(guards.require_operator)]

    @router.post("/api/alarms/acknowledge-all", response_model=list[dict[str, Any]], responses=errors)
    def acknowledge_all(who: Operator, body: AcknowledgeAllRequest) -> list[dict[str, Any]]:
        """Acknowledge every raised, unshelved alarm of the journal; returns those acknowledged."""
        run = getattr(service, "acknowledge_all", None) or service.alarms.acknowledge_all  # logged in the catalogue
        done = [to_dict(a) for a in run(_by(who, body.by), comment=body.comment)]
        audit(who, "acknowledge", "ok", f"all raised alarms ({len(done)}): {body.comment}")
        return done

    @router.post("/api/alarms/{alarm_id}/shelve", response_model=dict[str, Any],
                 responses={404: {"model": ErrorBody}, **errors})
    def shelve(who: Operator, alarm_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
               body: Annotated[ShelveRequest, Body()]) -> dict[str, Any]:
        """Shelve an alarm with a reason until an expiry (it stops counting as unacknowledged meanwhile)."""
        what = f"alarm {alarm_id} for {body.duration_s:g} s: {body.reason}"
        try:
            run = getattr(service, "shelve", None) or service.alarms.shelve  # logged in the catalogue
            alarm = run(alarm_id, _by(who, body.by), reason=body.reason, duration_s=body.duration_s)
        except AlarmError as exc:
            audit(who, "shelve", "refused 404: no such alarm", what)
            raise HTTPException(404, str(exc)) from None
        audit(who, "shelve", "ok", what)
        return to_dict(alarm)
    return router
