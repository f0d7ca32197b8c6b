"""A real pymodbus TCP server on 127.0.0.1 hosting the robot block for a simulated robot (test helper)."""

from __future__ import annotations

import asyncio
import threading
from contextlib import contextmanager

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from sampler.robot_registers import RobotBlockAdapter, pymodbus_action


@contextmanager
def robot_server(robot, base_address: int = 100, device_id: int = 1, block=None):
    """Serve ``robot``'s block at ``base_address``; yields the port. ``block`` overrides the initial words."""
    adapter = RobotBlockAdapter(robot)
    words = block if block is not None else adapter.new_block()
    action = pymodbus_action(adapter, base_address) if block is None else None
    device = SimDevice(id=device_id, simdata=[SimData(address=base_address, values=words, datatype=DataType.REGISTERS)],
                       action=action)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict = {}

    async def main():
        server = ModbusTcpServer(device, address=("127.0.0.1", 0))  # the kernel picks a free port: no race
        holder["server"] = server
        task = asyncio.ensure_future(server.serve_forever())
        while not getattr(server, "transport", None):
            await asyncio.sleep(0.01)
        holder["port"] = server.transport.sockets[0].getsockname()[1]
        ready.set()
        await task

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("pymodbus server did not start")
    try:
        yield holder["port"]
    finally:
        asyncio.run_coroutine_threadsafe(holder["server"].shutdown(), loop).result(10)
        thread.join(10)
