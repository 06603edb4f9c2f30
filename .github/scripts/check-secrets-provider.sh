#!/usr/bin/env bash
# Refuses to run Pulumi on a stack whose secrets are not kept by the Key Vault key the repository
# variables name (PULUMI_SECRETS_PROVIDER, built from vars.PULUMI_SECRETS_VAULT and
# vars.PULUMI_SECRETS_KEY by the workflows).
#
#   check-secrets-provider.sh STACK [PROJECT_DIR]
#
# Where Pulumi takes the provider from (pulumi/pulumi pkg/cmd/pulumi/stack/secrets.go GetSecretsManager):
# the stack file's `secretsprovider` when it has one, else the secrets manager recorded in the state (the
# DIY backend's fallback). Without either it would fall back to a passphrase, which CI does not have.
# `pulumi stack export` (without --show-secrets) prints the state as stored, secrets still encrypted; it
# is read here, never printed.
set -euo pipefail

stack=${1:?usage: check-secrets-provider.sh STACK [PROJECT_DIR]}
project=${2:-.}
expected=${PULUMI_SECRETS_PROVIDER:-}

if ! [[ "$expected" =~ ^azurekeyvault://[A-Za-z0-9-]+\.vault\.azure\.net/keys/[A-Za-z0-9-]+$ ]]; then
  echo "::error::PULUMI_SECRETS_PROVIDER must be azurekeyvault://<vault>.vault.azure.net/keys/<key> (are vars.PULUMI_SECRETS_VAULT and vars.PULUMI_SECRETS_KEY set?), not '$expected'"
  exit 1
fi

stack_file="$project/Pulumi.$stack.yaml"
if [ ! -f "$stack_file" ]; then
  echo "::error::$stack_file does not exist"
  exit 1
fi
named=$(sed -n -E 's/^secretsprovider:[[:space:]]*["'\'']?([^"'\'' ]*)["'\'']?[[:space:]]*$/\1/p' "$stack_file")
if [ -n "$named" ]; then
  if [ "$named" != "$expected" ]; then
    echo "::error::$stack_file names the secrets provider $named, not $expected"
    exit 1
  fi
  echo "stack $stack: secrets provider $named (stack file)"
  exit 0
fi

state=$(cd "$project" && pulumi stack export --stack "$stack")
recorded=$(jq -r '.deployment.secrets_providers | select(.type == "cloud") | .state.url // empty' <<< "$state")
if [ "$recorded" != "$expected" ]; then
  echo "::error::the state of stack $stack records the secrets provider '${recorded:-none}', not $expected"
  exit 1
fi
echo "stack $stack: secrets provider $recorded (state)"
