"""The control room over lots, through a real server: the alarm journal across lots (the cross-lot
acknowledge bug), acknowledge-all and shelving, and the catalogue's lot list, lot records and lab queue."""

from __future__ import annotations

import math
import time
from types import SimpleNamespace

import httpx
import pytest

from analysis.catalogue import (
    CatalogueQueries,
    CatalogueWriter,
    LineCatalogue,
    open_catalogue,
    store,
)
from analysis.control_room import CurrentLotService
from analysis.decide import AlarmIds
from analysis.web.server import ControlRoomServer
from conveyor.records import LotIdentity
from tests.controlroom.conftest import OPERATOR
from tests.lines.service import build_sim_line


@pytest.fixture(scope="module")
def two_lots(tmp_path_factory):
    """Two lots run one after the other behind one control room (as ``oreline control-room`` runs them)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cat') / 'catalogue.sqlite'}"
    catalogue = open_catalogue(url)
    with catalogue.session() as s, s.begin():
        for i, (vessel, lab) in enumerate((("MV Alpha", "awaiting"), ("MV Beta", "complete"), ("MV Gamma", "none"))):
            store.upsert_lot(s, f"LOT-H{i}", {"vessel": vessel, "status": "complete", "lab_status": lab,
                                              "started_epoch_s": 1.8e9 + i, "line_verdict": "ore"})
        store.upsert_alarm(s, "LOT-H0", {"alarm_id": 5, "severity": "critical", "state": "raised", "message": "old"})
    first = build_sim_line(speedup=math.inf, lot_mass_t=600.0, objects_per_1000_t=8.0, seed=3)
    service = CurrentLotService(first.service, AlarmIds(CatalogueQueries(catalogue).max_alarm_id() + 1))
    server = ControlRoomServer(service, operator_token=OPERATOR, history=CatalogueQueries(catalogue))
    server.start()
    first.run_lot()
    second = build_sim_line(speedup=math.inf, lot_mass_t=600.0, objects_per_1000_t=8.0, seed=4)
    writer = CatalogueWriter(catalogue)
    link = LineCatalogue(writer, line="test")
    link.attach(SimpleNamespace(lot=LotIdentity("LOT-LIVE-2", "MV Live", "H2", "fines", 600.0),
                                monitor=second.monitor, alarms=second.alarms, line=second.line), None)
    second.service.catalogue_link = link
    service.switch(second.service)
    second.run_lot()
    yield server, first, second
    server.stop()
    writer.close()
    catalogue.close()


def _client(server, token=OPERATOR) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url.rstrip("/"), headers=headers, timeout=10.0)


def test_alarm_ids_are_unique_across_lots_and_past_the_catalogue(two_lots):
    _server, first, second = two_lots
    ids1 = {a.alarm_id for a in first.alarms.all()}
    ids2 = {a.alarm_id for a in second.alarms.all()}
    assert ids1 and ids2 and not ids1 & ids2
    assert min(ids1 | ids2) > 5, "ids continue past the catalogue's"


def test_acknowledge_checks_the_lot_and_records_name_and_comment(two_lots):
    server, first, second = two_lots
    old = next(a for a in first.alarms.all() if a.state == "raised" and a.parent_id < 0)
    with _client(server) as c:
        listed = {a["alarm_id"] for a in c.get("/api/alarms", params={"active_only": True}).json()}
        assert old.alarm_id in listed, "an unacknowledged alarm of the previous lot is carried"
        r = c.post(f"/api/alarms/{old.alarm_id}/acknowledge", json={"by": "Ana", "lot_id": second.monitor.lot_id})
        assert r.status_code == 409 and "belongs to lot" in r.json()["detail"]
        assert first.alarms.get(old.alarm_id).state == "raised", "a refused acknowledgement changes nothing"
        r = c.post(f"/api/alarms/{old.alarm_id}/acknowledge",
                   json={"by": "Ana", "comment": "object removed at the magnet", "lot_id": first.monitor.lot_id})
        assert r.status_code == 200, r.text
        assert (r.json()["acknowledged_by"], r.json()["ack_comment"]) == ("Ana", "object removed at the magnet")
        assert c.post("/api/alarms/999999/acknowledge", json={"by": "Ana"}).status_code == 404


def test_shelve_and_acknowledge_all(two_lots):
    server, _first, _second = two_lots
    with _client(server) as c:
        raised = [a for a in c.get("/api/alarms").json() if a["state"] == "raised" and a["parent_id"] < 0]
        assert len(raised) >= 2
        target = raised[0]["alarm_id"]
        r = c.post(f"/api/alarms/{target}/shelve", json={"by": "Ben", "reason": "magnet cleaning", "duration_s": 600})
        assert r.status_code == 200 and r.json()["shelved_until_epoch_s"] > time.time()
        assert c.post(f"/api/alarms/{target}/shelve", json={"by": "Ben", "reason": "x", "duration_s": 0}).status_code == 422
        done = c.post("/api/alarms/acknowledge-all", json={"by": "Ben", "comment": "shift handover"}).json()
        assert target not in [a["alarm_id"] for a in done], "a shelved alarm is left for later"
        state = c.get("/api/state").json()
        assert state["alarms_unacknowledged"] == 0
        server.service.catalogue_link.writer.flush(30.0)
        commands = c.get("/api/lots/LOT-LIVE-2").json()["commands"]
        assert [(x["operator"], x["command"]) for x in commands][-1] == ("Ben", "acknowledge_all"), \
            "operator commands are logged in the catalogue"
    with _client(server, token=None) as anon:
        assert anon.post("/api/alarms/acknowledge-all", json={"by": "x"}).status_code == 401


def test_lot_list_search_records_and_lab_queue(two_lots):
    server, *_ = two_lots
    with _client(server) as c:
        assert [r["lot_id"] for r in c.get("/api/lots", params={"q": "beta"}).json()] == ["LOT-H1"]
        assert [r["lot_id"] for r in c.get("/api/lots", params={"q": "lot-h"}).json()] == ["LOT-H2", "LOT-H1", "LOT-H0"]
        rec = c.get("/api/lots/LOT-H0").json()
        assert rec["lot"]["vessel"] == "MV Alpha" and rec["alarms"][0]["message"] == "old"
        assert c.get("/api/lots/NOPE").status_code == 404
        assert c.get("/api/lots/LOT-H0/report/html").status_code == 404
        assert {r["lot_id"] for r in c.get("/api/journal/lab").json()} == {"LOT-H0", "LOT-H2"}
        crit = c.get("/api/journal/alarms", params={"severity": "critical"}).json()
        assert "LOT-H0" in [a["lot_id"] for a in crit] and {a["severity"] for a in crit} == {"critical"}
        assert [a["message"] for a in c.get("/api/journal/alarms", params={"lot_id": "LOT-H0"}).json()] == ["old"]
