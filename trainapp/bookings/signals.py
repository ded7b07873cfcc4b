"""What bookings announces, so higher features (funding) act in the same transaction without
bookings importing them. Receivers are connected by create_app."""

from blinker import Namespace

_signals = Namespace()

# sender: the Booking just cancelled (by its holder, a coordinator, or with its session); kwargs: by (User)
booking_cancelled = _signals.signal("booking-cancelled")
