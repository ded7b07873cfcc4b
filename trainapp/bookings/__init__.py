"""Bookings: places, waiting lists, agency reservations, approval, cancellation and transfer."""
