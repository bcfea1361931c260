"""Prints the presigned GET URL that boto3 (botocore's SigV4 signer) makes for an object, at a given time.

S3ExportStoreTests compares it with the S3 export store's own presigned URL: moto does not check a
presigned URL's signature or expiry, so an independent signer is what checks ours (the encoding of
the key and of `response-content-disposition` included).

usage: boto3_presign.py ENDPOINT REGION ACCESS_KEY SECRET BUCKET KEY CONTENT_DISPOSITION EXPIRES_SECONDS YYYYMMDDTHHMMSSZ
"""
import datetime
import sys
from unittest import mock

import boto3
from botocore.config import Config

endpoint, region, access_key, secret, bucket, key, disposition, expires, timestamp = sys.argv[1:10]
signing_time = datetime.datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ")
client = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name=region,
    aws_access_key_id=access_key,
    aws_secret_access_key=secret,
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
)
# botocore reads the clock once per signature through this function.
with mock.patch("botocore.auth.get_current_datetime", return_value=signing_time):
    print(client.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key, "ResponseContentDisposition": disposition},
        ExpiresIn=int(expires),
    ))
