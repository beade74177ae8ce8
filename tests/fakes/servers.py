"""uvicorn for the tests' own servers, stopped as soon as it is told to.

uvicorn's main loop looks at `should_exit` every 0.1 s and its shutdown then sleeps another 0.1 s before waiting for
the connections; a test that starts two servers spent a quarter of a second in teardown. `PromptServer.stop()`
wakes the loop at once, and the shutdown waits for the connections by event-loop turns instead of a fixed sleep.
"""

from __future__ import annotations

import asyncio
import socket

import uvicorn


class PromptServer(uvicorn.Server):
    """A uvicorn server that stops as soon as stop() is called (from any thread)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._exit: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._exit = asyncio.Event()
        await self.on_tick(0)
        if not self.should_exit:
            await self._exit.wait()

    def stop(self) -> None:
        """Ask the server to stop; serve() then returns once its connections are closed."""
        self.should_exit = True
        loop, event = self._loop, self._exit
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown without its fixed 0.1 s sleeps: stop listening, close the connections, wait for the
        requests in flight (up to timeout_graceful_shutdown, then cancel them), run the lifespan's shutdown."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        try:
            async with asyncio.timeout(self.config.timeout_graceful_shutdown):
                while self.server_state.connections or self.server_state.tasks:
                    await asyncio.sleep(0.005)
        except TimeoutError:
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()
