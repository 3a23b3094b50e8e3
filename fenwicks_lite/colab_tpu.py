"""Colab, Google Cloud Storage and TPUs (Chapter 1, Where the data lives).

In 2019 a Colab TPU was a remote *TPU Node* at ``grpc://...``: it could not read the
notebook's disk, so the data sat in a GCS bucket and the notebook had to hand its
credentials to the TPU (`setup_gcs` then called ``colab.auth.authenticate_user()`` and
``tf.contrib.cloud.configure_gcs``). Since 2024 Colab's TPUs are *TPU VMs* that read
local files, and `tf.contrib` is gone; GCS is now optional and authenticating the user
is all that is left. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: where `gcloud auth application-default login` leaves its credentials (Linux/macOS;
#: Windows: %APPDATA%).
ADC_FILE = Path("~/.config/gcloud/application_default_credentials.json")
#: the variable Google's client libraries (and TensorFlow's GCS file system) read for a
#: key file.
ADC_ENV = "GOOGLE_APPLICATION_CREDENTIALS"

_HOW_TO = (
    "To use gs:// paths outside Colab, give this machine Application Default "
    "Credentials: run `gcloud auth application-default login` once, or set {env} to a "
    "service-account key file. Without GCS, keep the data in a local folder: "
    "fw.io.get_project_dirs('.', 'cifar10')."
)


def in_colab() -> bool:
    """True inside a Colab notebook (Colab's kernel imports `google.colab` before any
    cell runs).

    Chapter 1, Where the data lives: `setup_gcs` asks it.
    """
    return "google.colab" in sys.modules


def _adc_available() -> bool:
    """Whether Application Default Credentials exist. Only the files' existence is
    looked at: nothing is read, printed or logged."""
    key = os.environ.get(ADC_ENV)
    if key:
        return Path(key).expanduser().is_file()
    appdata = os.environ.get("APPDATA")
    candidates = [ADC_FILE.expanduser()]
    if appdata:
        candidates.append(
            Path(appdata) / "gcloud" / "application_default_credentials.json"
        )
    return any(p.is_file() for p in candidates)


def setup_gcs() -> bool:
    """Makes Google Cloud Storage usable from this notebook, if it can; returns whether
    it is.

    Inside Colab: asks the user to sign in (`google.colab.auth.authenticate_user`),
    which gives this VM and TensorFlow's gs:// file system Application Default
    Credentials, and says so. Elsewhere: does nothing, says whether credentials exist
    and how to create them. It never prints, logs or writes a token or the content of a
    credential file (Chapter 1).
    """
    if in_colab():
        from google.colab import auth  # type: ignore[import-not-found]

        auth.authenticate_user()
        print(
            "Colab: signed in to Google Cloud; gs:// paths now work in this notebook."
        )
        return True
    if _adc_available():
        where = (
            f"${ADC_ENV}"
            if os.environ.get(ADC_ENV)
            else "gcloud's application-default login"
        )
        print(
            f"Not in Colab: Application Default Credentials found ({where}); gs:// "
            f"paths should work."
        )
        return True
    print(
        "Not in Colab and no Google Cloud credentials here: GCS is not set up, which "
        "this book does "
        "not need. " + _HOW_TO.format(env=ADC_ENV)
    )
    return False
