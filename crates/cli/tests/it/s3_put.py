"""Uploads a folder to a bucket of an S3-compatible server (the tests' moto), creating the
bucket if needed: s3_put.py ENDPOINT BUCKET PREFIX DIR [--markers]. With --markers, also the
zero-byte `folder/` keys the S3 console's "Create folder" leaves."""
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3

endpoint, bucket, prefix, folder = sys.argv[1:5]
markers = "--markers" in sys.argv[5:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
try:
    s3.create_bucket(Bucket=bucket)
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
uploads = []
for root, _, files in os.walk(folder):
    if markers:
        rel = os.path.relpath(root, folder).replace(os.sep, "/")
        key = prefix + ("" if rel == "." else rel + "/")
        if key:
            s3.put_object(Bucket=bucket, Key=key, Body=b"")
    for name in files:
        path = os.path.join(root, name)
        uploads.append((path, prefix + os.path.relpath(path, folder).replace(os.sep, "/")))
with ThreadPoolExecutor(16) as pool:
    for done in pool.map(lambda u: s3.upload_file(u[0], bucket, u[1]), uploads):
        pass
