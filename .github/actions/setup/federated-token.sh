#!/usr/bin/env bash
# Keeps a GitHub Actions OIDC token for Microsoft Entra in a file, fresh for the whole job.
#
#   federated-token.sh FILE          write one token to FILE (atomically), fail if none can be had
#   federated-token.sh FILE loop     do that every REFRESH_SECONDS (default 60) until the job ends
#
# Who reads the file: the Pulumi CLI's state backend (azblob://, gocloud.dev blob/azureblob) and its
# azurekeyvault:// secrets provider (gocloud.dev secrets/azurekeyvault) authenticate with azidentity's
# DefaultAzureCredential, whose WorkloadIdentityCredential exchanges the token in AZURE_FEDERATED_TOKEN_FILE
# (with AZURE_CLIENT_ID, AZURE_TENANT_ID) for Entra tokens and reads the file again whenever its copy is
# older than 10 minutes (azure-sdk-for-go sdk/azidentity/workload_identity.go, getAssertion). GitHub's
# tokens are valid for 5 minutes (AADSTS700024 in Azure/login#180, Azure/azure-cli#28708), so the file is
# rewritten every minute. See docs/ci-auth.md.
#
# The request is the one @actions/core getIDToken makes (actions/toolkit packages/core/src/oidc-utils.ts):
# GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<audience> with the bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN;
# the audience is the one Entra federated credentials expect for GitHub (api://AzureADTokenExchange). The
# token is never printed.
set -euo pipefail

file=${1:?usage: federated-token.sh FILE [loop]}
mode=${2:-once}
interval=${REFRESH_SECONDS:-60}
audience=api%3A%2F%2FAzureADTokenExchange

fetch() {
  if [ -z "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" ] || [ -z "${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-}" ]; then
    echo "no ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN: the job needs the permission id-token: write" >&2
    return 1
  fi
  local response token
  response=$(curl --silent --show-error --fail --retry 3 --max-time 30 \
    --header "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
    "${ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${audience}") || return 1
  token=$(jq --exit-status --raw-output '.value' <<< "$response") || {
    echo "the OIDC token response has no value" >&2
    return 1
  }
  (umask 077 && printf '%s' "$token" > "$file.tmp")
  mv -f "$file.tmp" "$file"
}

case "$mode" in
  once) fetch ;;
  loop)
    while sleep "$interval"; do
      fetch || echo "$(date -u +%FT%TZ) refreshing $file failed; retrying in ${interval}s" >&2
    done
    ;;
  *)
    echo "unknown mode '$mode' (once or loop)" >&2
    exit 2
    ;;
esac
