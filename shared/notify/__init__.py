"""Notifications: tell a render's subscribers (webhooks, e-mail) when it starts or completes, without loss.

`deliveries.on_transition` is called by the job store inside every transition's transaction, so a delivery row
exists exactly when the state change does; the dispatcher (api/dispatcher.py) sends the rows.
"""
