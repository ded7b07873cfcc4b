"""People at scale: staff lists and leavers from a spreadsheet, previewed before they apply."""
