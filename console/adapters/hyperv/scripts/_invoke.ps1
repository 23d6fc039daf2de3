# vdi-script: {{SCRIPT_NAME}}
# Wrapper around every script: parameters arrive as base64 JSON data, never as code; the result or
# the error leaves as one JSON document on stdout.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$VdiParams = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('{{PARAMS_B64}}')) | ConvertFrom-Json
try {
    $VdiResult = & {
{{SCRIPT_BODY}}
    }
    [Console]::Out.Write((ConvertTo-Json -InputObject $VdiResult -Depth 8 -Compress))
    exit 0
} catch {
    $e = $_
    $err = @{ error = @{
        message   = $e.Exception.Message
        fqid      = [string]$e.FullyQualifiedErrorId
        category  = [string]$e.CategoryInfo.Category
        exception = $e.Exception.GetType().FullName
        target    = [string]$e.TargetObject
    } }
    [Console]::Out.Write((ConvertTo-Json -InputObject $err -Depth 4 -Compress))
    exit 1
}
