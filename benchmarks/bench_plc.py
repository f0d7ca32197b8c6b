"""plc benchmarks: server read throughput, snapshot-to-register latency, belt-scale poll rate.

Run: ``.venv/bin/python -m benchmarks.bench_plc``. Servers and clients share this
process (the server's loop thread competes with the client for the GIL, as it
would with the line runtime), over 127.0.0.1 on free ports.
"""

from __future__ import annotations

import selectors
import socket
import statistics
import struct
import sys
import threading
import time

from pymodbus.client import ModbusTcpClient

from benchmarks.common import row
from conveyor.feed import SimulatedFeed
from plc.beltscale import BeltScaleClient
from plc.bw500 import DRIVE_BASE
from plc.registers import ORELINE_MAP
from plc.server import OrelineModbusServer
from plc.simulated import SimulatedPlc
from plc.snapshot import LineSnapshot
from plc.tcp import ServerOptions

_LOT = ORELINE_MAP["LOT_NUMBER"].address


def _port(server: OrelineModbusServer | SimulatedPlc) -> int:
    """The TCP port of a started server."""
    if server.port is None:
        raise RuntimeError("the server is not listening")
    return server.port


def _row(name: str, value: float, unit: str, target: float, higher_is_better: bool = True) -> dict:
    return row(name, value, unit, target, higher_is_better=higher_is_better)


def bench_server_reads(seconds: float = 3.0) -> dict:
    """Read requests of 100 registers per second from one synchronous client."""
    with OrelineModbusServer() as srv:
        srv.publish(LineSnapshot(lot_number=1, lot_id="BENCH"))
        client = ModbusTcpClient("127.0.0.1", port=_port(srv), timeout=2, retries=0)
        client.connect()
        for _ in range(200):  # warm-up
            client.read_holding_registers(0, count=100, device_id=1)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            rr = client.read_holding_registers(0, count=100, device_id=1)
            assert not rr.isError() and len(rr.registers) == 100
            n += 1
        rate = n / (time.perf_counter() - t0)
        client.close()
    return _row("plc server reads of 100 registers, 1 client", rate, "req/s", 2000.0)


def bench_server_reads_many_clients(clients: int = 50, seconds: float = 3.0) -> dict:
    """Reads of 100 registers per second over ``clients`` connections, each a PLC with one request in flight.

    The clients are raw sockets driven by one selector loop in this process (cheap, so the figure is the
    server's); the server runs on its thread as in the line process, publishing a snapshot every 10 ms.
    """
    request = struct.pack(">HHHBBHH", 0, 0, 6, 1, 3, 0, 100)
    with OrelineModbusServer(options=ServerOptions(max_connections=clients + 4)) as srv:
        srv.publish(LineSnapshot(lot_number=1, lot_id="BENCH"))
        socks = [socket.create_connection(("127.0.0.1", _port(srv))) for _ in range(clients)]
        sel = selectors.DefaultSelector()
        for s in socks:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sel.register(s, selectors.EVENT_READ, bytearray())
            s.sendall(request)
        answered, failed, t0, last_publish = 0, 0, time.perf_counter(), 0.0
        while (now := time.perf_counter()) - t0 < seconds:
            if now - last_publish > 0.01:
                srv.publish(LineSnapshot(lot_number=answered % 1000 + 1, lot_id="BENCH"))
                last_publish = now
            for key, _ in sel.select(0.01):
                buf, sock = key.data, key.fileobj
                assert isinstance(sock, socket.socket)
                buf += sock.recv(4096)
                while len(buf) >= 6 and len(buf) >= 6 + int.from_bytes(buf[4:6], "big"):
                    size = 6 + int.from_bytes(buf[4:6], "big")
                    answered += 1
                    failed += buf[7] != 3 or size != 9 + 200
                    del buf[:size]
                    sock.sendall(request)
        rate = answered / (time.perf_counter() - t0)
        for s in socks:
            s.close()
    if failed:
        raise AssertionError(f"{failed} of {answered} reads failed")
    return _row(f"plc server reads of 100 registers, {clients} clients connected", rate, "req/s", 2000.0)


def bench_snapshot_latency(changes: int = 200) -> list[dict]:
    """Time from a state change (publish) until a polling client reads the new value."""
    with OrelineModbusServer() as srv:
        seen: dict[int, float] = {}
        stop = threading.Event()

        def poll() -> None:
            c = ModbusTcpClient("127.0.0.1", port=_port(srv), timeout=2, retries=0)
            c.connect()
            while not stop.is_set():
                rr = c.read_holding_registers(_LOT, count=2, device_id=1)
                lot = (rr.registers[0] << 16) | rr.registers[1]
                seen.setdefault(lot, time.perf_counter())
            c.close()

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        time.sleep(0.2)
        published: dict[int, float] = {}
        publish_cost = []
        for lot in range(1, changes + 1):
            t = time.perf_counter()
            srv.publish(LineSnapshot(lot_number=lot, lot_tonnage_t=lot * 1.5, line_status=1))
            published[lot] = t
            publish_cost.append(time.perf_counter() - t)
            deadline = t + 1.0
            while lot not in seen and time.perf_counter() < deadline:
                time.sleep(0.0005)
        stop.set()
        poller.join(5)
    lat_ms = [(seen[k] - published[k]) * 1000 for k in published if k in seen]
    missing = changes - len(lat_ms)
    worst = max(lat_ms) if lat_ms and not missing else float("inf")
    return [
        _row(f"plc snapshot -> register seen by a polling client, worst of {changes}", worst, "ms", 100.0, False),
        _row("plc snapshot -> register seen by a polling client, median", statistics.median(lat_ms), "ms", 100.0,
             False),
        _row("plc publish() call, median", statistics.median(publish_cost) * 1e6, "us", 1000.0, False),
    ]


def bench_beltscale_reads(seconds: float = 2.0) -> dict:
    """Belt-scale polls per second (simulated PLC update + client read over Modbus)."""
    feed = SimulatedFeed(rate_t_h=4000.0, speed_m_s=4.0, lot_mass_t=1e6)
    with SimulatedPlc(feed) as plc:
        client = BeltScaleClient("127.0.0.1", _port(plc), drive_state_address=DRIVE_BASE)
        n, t0, sim_t = 0, time.perf_counter(), 0.0
        while time.perf_counter() - t0 < seconds:
            plc.update(sim_t)
            r = client.read(sim_t)
            assert r.ok, r.fault
            sim_t += 0.1
            n += 1
        rate = n / (time.perf_counter() - t0)
        client.close()
    return _row("plc belt-scale update+read cycles", rate, "reads/s", 50.0)


def main(argv: list[str] | None = None) -> list[dict]:
    """Run every plc benchmark; print each figure next to its target and return the rows (``--quick``: short runs)."""
    quick = "--quick" in (argv or [])
    if quick:
        return [bench_server_reads(0.3), bench_server_reads_many_clients(50, 1.0), *bench_snapshot_latency(20),
                bench_beltscale_reads(0.3)]
    return [bench_server_reads(), bench_server_reads_many_clients(), *bench_snapshot_latency(), bench_beltscale_reads()]


if __name__ == "__main__":
    main(sys.argv[1:])
