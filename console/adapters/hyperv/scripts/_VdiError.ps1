# Shared: an error record with the category the adapter maps (CONTRACT.md's table), thrown by our own checks.
function New-VdiError([string]$Message, [string]$Id, [string]$Category, [string]$Target = '') {
    New-Object Management.Automation.ErrorRecord (New-Object InvalidOperationException $Message), $Id, ([Management.Automation.ErrorCategory]$Category), $Target
}
# Folders the console removes recursively must be ones it made: a wrong parameter never empties a volume.
function Assert-VdiFolder([string]$Folder, [string]$Parent) {
    if ($Folder -notmatch "^[A-Za-z]:\\.+\\$Parent\\[^\\]+$" -or $Folder -match '\\\.\.?(\\|$)') {
        throw (New-VdiError "'$Folder' is not a $Parent folder of the console." 'VdiFolderRefused' 'InvalidArgument' $Folder)
    }
}
