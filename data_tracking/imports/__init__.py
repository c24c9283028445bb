"""Importers for rosters and assessment files. Each reads files into validated rows, reports
every bad row with file, line, column and reason, and writes all-or-nothing in bulk."""
