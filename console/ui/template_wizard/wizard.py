"""The Create Template wizard: Source → General → Preparation → (Distribution) → Summary.

The pages write into one WizardState; the services are called for checks while it is open (through
the TemplateBridge, never blocking) and for creation exactly once, at Finish. Distribution is skipped
(nextId) for sources that are not standalone Hyper-V hosts; the Summary says why. The wizard is opened
with open(), never exec() (an exec() inside the qasync loop would hang it).
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWizard

from console.domain.errors import ValidationError
from console.ui.template_bridge import TemplateBridge
from console.ui.template_wizard.distribution_page import DistributionPage
from console.ui.template_wizard.general_page import GeneralPage
from console.ui.template_wizard.preparation_page import PreparationPage
from console.ui.template_wizard.source_page import SourcePage
from console.ui.template_wizard.state import WizardState
from console.ui.template_wizard.summary_page import SummaryPage

SOURCE, GENERAL, PREPARATION, DISTRIBUTION, SUMMARY = range(5)
#: where a refused field is typed, so the Summary can say where to go back to
FIELD_PAGES = {"name": "General", "description": "General", "shutdown_consent": "Source",
               "vm_id": "Source", "provider_id": "Source", "domain": "Preparation",
               "organizational_unit": "Preparation", "join_account": "Preparation",
               "join_password": "Preparation", "local_administrator": "Preparation",
               "targets": "Distribution", "target_provider_ids": "Distribution",
               "concurrent_distribution": "Distribution", "distribution_enabled": "Distribution"}


class CreateTemplateWizard(QWizard):
    #: the new template's id, after Finish started its creation
    templateCreated = Signal(int)
    #: the creation task, after Finish
    taskStarted = Signal(object)

    def __init__(self, services_bridge, parent=None, provider_id: int | None = None,
                 vm_id: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("createTemplateWizard")
        self.setAccessibleName("Create template")
        self.setWindowTitle("Create Template")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, False)
        self.state = WizardState()
        self.bridge = TemplateBridge(services_bridge, self)
        self.task = None
        self.template_id: int | None = None
        self._creating = False
        self._validating = False

        self.source_page = SourcePage(self.state, self.bridge, self)
        self.general_page = GeneralPage(self.state, self.bridge, self)
        self.preparation_page = PreparationPage(self.state, self.bridge, self)
        self.distribution_page = DistributionPage(self.state, self.bridge, self)
        self.summary_page = SummaryPage(self.state, self.bridge, self)
        for page_id, page in ((SOURCE, self.source_page), (GENERAL, self.general_page),
                              (PREPARATION, self.preparation_page), (DISTRIBUTION, self.distribution_page),
                              (SUMMARY, self.summary_page)):
            self.setPage(page_id, page)
        self.setStartId(SOURCE)
        self.button(QWizard.WizardButton.FinishButton).setObjectName("finishButton")
        self.button(QWizard.WizardButton.NextButton).setObjectName("nextButton")
        self.button(QWizard.WizardButton.BackButton).setObjectName("backButton")
        self.button(QWizard.WizardButton.CancelButton).setObjectName("cancelButton")
        self.button(QWizard.WizardButton.FinishButton).setText("&Finish")
        self.resize(860, 680)
        self.finished.connect(lambda _r: self.bridge.close())
        self.source_page.preselect(provider_id, vm_id)

    def after_preparation(self) -> int:
        """Distribution only for standalone Hyper-V sources; otherwise straight to the Summary."""
        return DISTRIBUTION if self.state.distribution_possible else SUMMARY

    # ----- Finish -------------------------------------------------------------------------------
    def validateCurrentPage(self) -> bool:
        if self.currentId() != SUMMARY:
            return super().validateCurrentPage()
        if self.task is not None:
            return True                 # created already: Finish only closes
        if self._creating:
            return False
        self._creating = True
        self.button(QWizard.WizardButton.FinishButton).setEnabled(False)
        self.summary_page.show_error("")
        self._validating = True
        try:
            self.bridge.create(self.state.plan(), self._created, self._refused)
        finally:
            self._validating = False
        if self.task is not None:
            return True                 # a synchronous create: the wizard closes now
        if self._creating:
            return False                # an asynchronous one: it closes when it answers
        return False                    # refused: the summary says why

    def _created(self, task) -> None:
        self._creating = False
        self.task = task
        self.template_id = self.bridge.template_id(task, self.state.name.strip())
        self.taskStarted.emit(task)
        if self.template_id is not None:
            self.templateCreated.emit(self.template_id)
        if not self._validating:
            self.accept()           # an asynchronous create answered after Finish was pressed

    def _refused(self, message: str, hint: str, exc: BaseException) -> None:
        self._creating = False
        self.button(QWizard.WizardButton.FinishButton).setEnabled(True)
        where = ""
        if isinstance(exc, ValidationError) and exc.field in FIELD_PAGES:
            where = f" (go Back to the {FIELD_PAGES[exc.field]} page to change it)"
        self.summary_page.show_error(f"{message} {hint}".strip() + where)


def open_create_template_wizard(parent, services_bridge, provider_id: int | None = None,
                                vm_id: str | None = None) -> CreateTemplateWizard:
    """Open the wizard (window-modal, open(): never exec()), the source preselected when given."""
    wizard = CreateTemplateWizard(services_bridge, parent, provider_id=provider_id, vm_id=vm_id)
    wizard.finished.connect(lambda _r: wizard.deleteLater())
    wizard.open()
    return wizard
