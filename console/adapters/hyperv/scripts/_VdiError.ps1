# Shared: an error record with the category the adapter maps (CONTRACT.md's table), thrown by our own checks.
# (PowerShell turns the category's name into the ErrorCategory value.)
function New-VdiError($Message, $Id, $Category, $Target = '') {
    [Management.Automation.ErrorRecord]::new([InvalidOperationException]::new([string]$Message), [string]$Id, $Category, $Target)
}
# Folders the console removes recursively must be ones it made: a wrong parameter never empties a volume.
# X:\...\<Parent>\<name>, where <Parent> may sit at the drive's root (a host whose VM path is D:\ gives
# D:\VDI-Templates\<name>); the look-ahead refuses a "." or ".." segment anywhere.
function Assert-VdiFolder([string]$Folder, [string]$Parent) {
    if ($Folder -notmatch "^[A-Za-z]:(?!.*\\\.\.?(\\|$))\\(.+\\)?$Parent\\[^\\]+$") {
        throw (New-VdiError "'$Folder' is not a $Parent folder of the console." 'VdiFolderRefused' 'InvalidArgument' $Folder)
    }
}
