"""asyncio's Task and TaskQueue on the virtual board's scaled clock (replaces the C `_asyncio` module).

The unix port's C `_asyncio` stamps tasks with its own real-time ticks (when a task is queued
to run now, and in cancel()), which cannot be mixed with the simulated ticks that asyncio's
sleeps use. This module gives the same interface and behaviour on `time.ticks_ms` (the
board's clock); vbstart installs it as sys.modules["_asyncio"] before asyncio is imported.
The queue is a list kept in time order (a board runs a handful of tasks); equal times run
in the order they were queued.
"""

from time import ticks_ms as _ticks, ticks_diff as _ticks_diff

_context = None  # asyncio.core's globals (cur_task, _task_queue, CancelledError), given by Task()


class TaskQueue:
    """Tasks ordered by ph_key (ticks_ms at which each may run)."""

    def __init__(self):
        self._q = []

    def peek(self):
        q = self._q
        return q[0] if q else None

    def push(self, task, key=None):
        task.data = None
        task.ph_key = _ticks() if key is None else key
        q = self._q
        i = len(q)
        while i and _ticks_diff(q[i - 1].ph_key, task.ph_key) > 0:
            i -= 1
        q.insert(i, task)

    def pop(self):
        if not self._q:
            raise IndexError("empty heap")
        return self._q.pop(0)

    def remove(self, task):
        q = self._q
        for i in range(len(q)):
            if q[i] is task:
                del q[i]
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
