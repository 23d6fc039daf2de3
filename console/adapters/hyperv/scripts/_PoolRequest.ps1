# Shared by the pool scripts (issue #5): pool folders and the request id in a clone's notes.
function Assert-VdiPoolFolder([string]$Folder) {
    if ($Folder -notmatch '^[A-Za-z]:\\(?!.*\\\.\.?(\\|$))(.+\\)?VDI-Pools\\[^\\]+$') {
        throw (New-VdiError "'$Folder' is not a pool folder of the console (<VM path>\VDI-Pools\<pool>)." 'VdiFolderRefused' 'InvalidArgument' $Folder)
    }
}
# The request id a clone was made for, from its notes ("vdi-request:<id>"); '' when none.
function Get-VdiRequestId($VM) {
    if ([string]$VM.Notes -match '(?m)^vdi-request:(\S+)') { $Matches[1] } else { '' }
}
