"""Closed run logs and play journals in S3-compatible object storage (DESIGN 11); see ``s3.py``."""
