"""Events lower features announce, so higher ones (funding) can act in the same transaction
without the lower ones importing them."""

from blinker import Namespace

_signals = Namespace()

# sender: the Booking whose register mark changed; kwargs: by (User)
attendance_marked = _signals.signal("attendance-marked")
# sender: the Booking just cancelled; kwargs: by (User)
booking_cancelled = _signals.signal("booking-cancelled")
