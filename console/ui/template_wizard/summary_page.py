"""Summary: everything chosen, and the numbered steps the creation task will run. Finish calls
services.templates.create(plan) once; a refusal (ValidationError) shows here and keeps the wizard
open."""
from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWizardPage

from console.ui.template_wizard.common import message_label, named, show_message


class SummaryPage(QWizardPage):
    def __init__(self, state, bridge, parent=None) -> None:
        super().__init__(parent)
        self.state, self.bridge = state, bridge
        named(self, "summaryPage", "Summary")
        self.setTitle("Summary")
        self.setSubTitle("Check what will be created. Finish starts one task; its progress shows in "
                         "the Tasks pane.")
        self.text = named(QTextBrowser(self), "summaryText", "Summary of the template to create")
        self.text.setOpenLinks(False)
        self.message = message_label("summaryPageMessage", "Summary page message", self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.message)

    def initializePage(self) -> None:
        show_message(self.message, "")
        self.text.setHtml(self.html())

    def html(self) -> str:
        rows = "".join(f"<tr><td style='padding:2px 14px 2px 0'><b>{escape(label)}</b></td>"
                       f"<td style='padding:2px 0'>{escape(value)}</td></tr>"
                       for label, value in self.state.summary())
        steps = "".join(f"<li>{escape(step)}</li>" for step in self.state.steps())
        return (f"<table cellspacing='0'>{rows}</table>"
                f"<p style='margin-top:12px'><b>The task will:</b></p><ol>{steps}</ol>")

    def show_error(self, text: str) -> None:
        show_message(self.message, text)
