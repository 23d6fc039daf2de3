"""After the providers' passwords: the domain join passwords a keyring-less session does not know
(templates' and pools' preparations), one small dialog at a time, each once per session."""
from __future__ import annotations

from console.ui.password_dialog import join_password_dialog


def ask_join_passwords(window) -> None:
    services = window.services
    if services is None or window.bridge is None:
        return
    queue = [("template", t.id, t.name, t.preparation.join_account, services.templates.set_join_password)
             for t in services.templates.missing_join_passwords()]
    queue += [("pool", p.id, p.name, p.preparation_override.join_account, services.pools.set_join_password)
              for p in services.pools.missing_join_passwords()]
    _next(window, queue)


def _next(window, queue: list) -> None:
    if not queue:
        return
    (kind, object_id, name, account, setter), rest = queue[0], queue[1:]
    dialog = join_password_dialog(kind, object_id, name, account, window.services.secrets.persistent, window)
    dialog.passwordGiven.connect(lambda oid, password: window.bridge.call(setter, oid, password,
                                                                           what="Join password"))
    dialog.finished.connect(lambda _r: (window._forget_dialog(dialog), _next(window, rest)))
    window._keep_dialog(dialog)
    dialog.open()
