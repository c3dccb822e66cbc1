"""The firmware's one event-queue policy: a fixed ring of slot indices into its owner's
preallocated arrays (the classifier's steps, the coach's events, a session's cues).

When the ring is full a new event takes the oldest slot, and `dropped` counts the loss: the
newest events are the present (the walk's end, the latest switch, the cue for now), an old
one delivered late is worth less. Rings are drained after every FIFO batch, so a loss means
a consumer stopped popping. Allocation-free.
"""


class EventRing:
    """Slots 0..size-1 in arrival order: push() gives the new event's slot, pop() the oldest's."""

    def __init__(self, size):
        self.size = size
        self.head = 0  # slot of the oldest event
        self.count = 0  # events waiting
        self.dropped = 0  # events overwritten before they were popped

    def push(self):
        """The slot for a new event (the oldest one's when full: it is dropped)."""
        n = self.count
        if n == self.size:
            self.dropped += 1
            self.head = (self.head + 1) % n
            return (self.head + n - 1) % n
        self.count = n + 1
        return (self.head + n) % self.size

    def pop(self):
        """The oldest waiting event's slot (call only while count > 0)."""
        k = self.head
        self.head = (k + 1) % self.size
        self.count -= 1
        return k
