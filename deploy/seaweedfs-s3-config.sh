#!/bin/sh
# Prints SeaweedFS's S3 identities from the environment (keys never live in a committed file):
# the app's identity may read, write and list its own bucket only, nothing else (no Admin).
#   IRIS_S3_ACCESS_KEY_ID, IRIS_S3_SECRET_ACCESS_KEY: the app's keys (the same the app is given)
#   S3_BUCKET: the bucket (default iris)
set -eu
: "${IRIS_S3_ACCESS_KEY_ID:?set IRIS_S3_ACCESS_KEY_ID}"
: "${IRIS_S3_SECRET_ACCESS_KEY:?set IRIS_S3_SECRET_ACCESS_KEY}"
bucket="${S3_BUCKET:-iris}"
for value in "$IRIS_S3_ACCESS_KEY_ID" "$IRIS_S3_SECRET_ACCESS_KEY" "$bucket"; do
  case "$value" in
    *[!A-Za-z0-9._+/=-]*) echo "S3 keys and bucket: letters, digits and ._+/=- only" >&2; exit 2 ;;
  esac
done
if [ "${#IRIS_S3_SECRET_ACCESS_KEY}" -lt 32 ]; then
  echo "IRIS_S3_SECRET_ACCESS_KEY: 32+ random characters" >&2
  exit 2
fi
printf '{"identities": [{"name": "iris-app", "credentials": [{"accessKey": "%s", "secretKey": "%s"}], "actions": ["Read:%s", "Write:%s", "List:%s", "Tagging:%s"]}]}\n' \
  "$IRIS_S3_ACCESS_KEY_ID" "$IRIS_S3_SECRET_ACCESS_KEY" "$bucket" "$bucket" "$bucket" "$bucket"
