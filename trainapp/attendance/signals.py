"""What attendance announces, so higher features (funding) act in the same transaction without
attendance importing them. Receivers are connected by create_app."""

from blinker import Namespace

_signals = Namespace()

# sender: the Booking whose register mark changed; kwargs: by (User)
attendance_marked = _signals.signal("attendance-marked")
