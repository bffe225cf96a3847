"""Notifications: tell a render's subscribers (webhooks, e-mail) when it starts or completes, without loss.

`on_transition` is called by the job state machine inside every transition's transaction, so a delivery row
exists exactly when the state change does; the dispatcher (api/dispatcher.py) sends the rows.
"""

from shared.notify.deliveries import on_transition

__all__ = ["on_transition"]
