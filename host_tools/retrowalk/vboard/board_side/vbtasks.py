"""asyncio's Task and TaskQueue on the virtual board's scaled clock (replaces the C `_asyncio` module).

The unix port's C `_asyncio` stamps tasks with its own real-time ticks (when a task is queued
to run now, and in cancel()), which cannot be mixed with the simulated ticks that asyncio's
sleeps use. This module gives the same interface and behaviour on `time.ticks_ms` (the
board's clock); install() makes asyncio use it (before anything imports asyncio).
The queue is an array of slots kept in time order (a board runs a handful of tasks); equal
times run in the order they were queued.
"""

import sys

from time import ticks_ms as _ticks, ticks_diff as _ticks_diff

_context = None  # asyncio.core's globals (cur_task, _task_queue, CancelledError), given by Task()


def install():
    """Put asyncio on the simulated clock: this task queue, and the scaled poll for its waits."""
    import vbclock

    sys.modules["_asyncio"] = sys.modules[__name__]
    import asyncio.core

    asyncio.core.select = vbclock.SelectModule
    asyncio.core._io_queue.poller = vbclock.ScaledPoll()


class TaskQueue:
    """Tasks ordered by ph_key (ticks_ms at which each may run); no allocation once it has grown."""

    def __init__(self):
        self._q = [None] * 8  # slots; a list would shrink on pop and allocate again on push
        self._n = 0

    def peek(self):
        return self._q[0] if self._n else None

    def push(self, task, key=None):
        task.data = None
        if key is None:
            key = _ticks()
        task.ph_key = key
        q = self._q
        n = self._n
        if n == len(q):
            q.extend([None] * n)
        i = n
        while i and _ticks_diff(q[i - 1].ph_key, key) > 0:
            q[i] = q[i - 1]
            i -= 1
        q[i] = task
        self._n = n + 1

    def pop(self):
        n = self._n
        if not n:
            raise IndexError("empty heap")
        q = self._q
        task = q[0]
        for i in range(1, n):
            q[i - 1] = q[i]
        q[n - 1] = None
        self._n = n - 1
        return task

    def remove(self, task):
        q = self._q
        n = self._n
        for i in range(n):
            if q[i] is task:
                for j in range(i + 1, n):
                    q[j - 1] = q[j]
                q[n - 1] = None
                self._n = n - 1
                return


class Task:
    """A coroutine scheduled by asyncio; state: True running, None/False done, a TaskQueue of waiters, or a callback."""

    def __init__(self, coro, context=None):
        global _context
        self.coro = coro
        self.data = None
        self.state = True
        self.ph_key = 0
        if context is not None:
            _context = context

    def done(self):
        return self.state is None or self.state is False

    def cancel(self):
        if self.done():
            return False
        if self is _context["cur_task"]:
            raise RuntimeError("can't cancel self")
        task = self
        while isinstance(task.data, Task):  # forward to the task it waits on
            task = task.data
        queue = _context["_task_queue"]
        if hasattr(task.data, "remove"):  # waiting on another queue: move it to the run queue
            task.data.remove(task)
            queue.push(task)
        elif _ticks_diff(task.ph_key, _ticks()) > 0:  # scheduled later: bring it forward
            queue.remove(task)
            queue.push(task)
        task.data = _context["CancelledError"]
        return True

    def __iter__(self):
        if self.done():
            self.state = False  # done, and now awaited
        elif self.state is True:
            self.state = TaskQueue()
        elif not isinstance(self.state, TaskQueue):
            raise RuntimeError("can't wait")
        return self

    def __next__(self):
        if self.done():
            raise self.data
        cur = _context["cur_task"]
        self.state.push(cur)
        cur.data = self
        return None
