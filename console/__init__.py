"""VDI Console: VDI template provisioning across hypervisors."""

__version__ = "0.1.0"
APP_NAME = "VDI Console"
APP_ID = "org.vdiconsole.VDIConsole"
