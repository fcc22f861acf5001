"""Object storage: the only part of the tool that talks to an S3 API (through boto3)."""
