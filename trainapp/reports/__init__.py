"""The partnership board report, agency coverage, charts and exports."""
