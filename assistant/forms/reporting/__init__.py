"""Reporting on submissions: the dashboard, its charts, and the CSV/XLSX exports."""
