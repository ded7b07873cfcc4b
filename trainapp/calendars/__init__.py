"""Calendar feeds, single-session downloads and email invitations (iCalendar)."""
