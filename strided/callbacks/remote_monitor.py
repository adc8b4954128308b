"""RemoteMonitor: posts each epoch's logs to an HTTP server (Keras 3 ``keras.callbacks.RemoteMonitor``).

Keras sends the request with the ``requests`` package; strided uses ``urllib.request`` from the
standard library, so nothing needs installing. The request is the one Keras sends: a ``POST`` to
``root + path`` whose body is either the JSON of the logs (``send_as_json=True``,
``Content-Type: application/json``) or a form with one field holding that JSON.
"""

import http.client
import json
import numbers
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np
import torch

from strided.callbacks.callback import Callback


def _plain(value):
    """A log value as something ``json`` writes: NumPy and torch scalars become Python numbers."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.item()
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.detach().cpu().tolist()
    if value is None or isinstance(value, (str, bool, numbers.Number, list, tuple, dict)):
        return value
    # strided's lazily computed metric results read their value on conversion.
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


class RemoteMonitor(Callback):
    """Callback used to stream events to a server.

    At the end of every epoch the epoch number and the logs are sent, as an HTTP ``POST``, to
    ``root + path`` (``http://localhost:9000/publish/epoch/end/`` by default). By default the JSON
    of the logs travels in a form field (``field``, ``application/x-www-form-urlencoded``); with
    ``send_as_json=True`` it is the request body itself, with content type ``"application/json"``.

    A server that cannot be reached does not stop training: the callback warns
    (``Could not reach RemoteMonitor root server at ...``) and training goes on. As with Keras,
    the server's answer, an error status included, is not looked at.

    Args:
        root: String; root url of the target server.
        path: String; path relative to `root` to which the events will be sent.
        field: String; JSON field under which the data will be stored.
            The field is used only if the payload is sent within a form
            (i.e. when `send_as_json=False`).
        headers: Dictionary; optional custom HTTP headers.
        send_as_json: Boolean; whether the request should be
            sent as `"application/json"`.

    Example:

    ```python
    monitor = keras.callbacks.RemoteMonitor(root="http://localhost:9000", send_as_json=True)
    model.fit(x, y, epochs=5, callbacks=[monitor])
    ```
    """

    _writes_files = True  # under data parallelism only rank 0 posts

    def __init__(
        self, root="http://localhost:9000", path="/publish/epoch/end/", field="data", headers=None, send_as_json=False
    ):
        super().__init__()
        for name, value in (("root", root), ("path", path), ("field", field)):
            if not isinstance(value, str):
                raise TypeError(
                    f"Invalid type for argument `{name}`. Expected a string. "
                    f"Received: {name}={value!r} of type {type(value).__name__}"
                )
        if headers is not None and not isinstance(headers, dict):
            raise TypeError(
                "Invalid type for argument `headers`. Expected a dict of HTTP header names to values "
                f"(or None). Received: headers={headers!r} of type {type(headers).__name__}"
            )
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def _request(self, send):
        headers = {str(k): str(v) for k, v in (self.headers or {}).items()}
        if self.send_as_json:
            # `requests.post(json=...)` refuses NaN and infinity (not valid JSON); so does this.
            body = json.dumps(send, allow_nan=False).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return urllib.request.Request(self.root + self.path, data=body, headers=headers, method="POST")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        send = {"epoch": epoch}
        for k, v in logs.items():
            send[k] = _plain(v)
        try:
            request = self._request(send)
            with urllib.request.urlopen(request) as response:
                response.read()
        except urllib.error.HTTPError as e:
            e.close()  # the server answered; Keras does not look at the status either
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
            # ValueError: a malformed url, or logs that are not valid JSON (requests raises too).
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)
