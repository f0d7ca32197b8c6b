"""The batch report of one lot, by job: reading the archive (``read``), what it states (``summaries``, the
sections), one document model (``docmodel``, ``document``) rendered to HTML (``html``) and printed to PDF from the
same HTML (``pdf``), writing both (``write``) and the command (``cli``)."""

from analysis.report.cli import cli_report
from analysis.report.document import build_document
from analysis.report.html import render_html
from analysis.report.read import ReportData, build_report_data
from analysis.report.write import write_report

__all__ = ["ReportData", "build_document", "build_report_data", "cli_report", "render_html", "write_report"]
