"""PACS routing studies to Iris: a STOW-RS endpoint and a DICOM C-STORE receiver fill a staging
inbox per account and study; a study silent for IRIS_DICOM_QUIET_SECONDS goes through the upload
intake, is queued by its owner's rule, and its results go to the owner's destination.

It sits beside :mod:`iris3d.api` (it uses its intake and quotas); only :mod:`iris3d.cli` and the
API's lifespan start it.
"""
