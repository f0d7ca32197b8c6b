"""The batch report of one lot: data read from its archive, plots, HTML and PDF, and its CLI."""

from analysis.report.data import ReportData, build_report_data, cli_report, render_html, render_pdf, write_report

__all__ = ["ReportData", "build_report_data", "cli_report", "render_html", "render_pdf", "write_report"]
