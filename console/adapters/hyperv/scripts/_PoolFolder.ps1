# Shared by the pool scripts (issue #5). A clone lives in <VM path>\VDI-Pools\<pool>\<clone>: the
# console only ever creates, empties or removes folders of that shape, so a wrong parameter never
# touches another folder. The look-ahead refuses a "." or ".." segment anywhere.
function Assert-VdiCloneFolder([string]$Folder) {
    if ($Folder -notmatch '^[A-Za-z]:\\(?!.*\\\.\.?(\\|$))(.+\\)?VDI-Pools\\[^\\]+\\[^\\]+$') {
        throw (New-VdiError "'$Folder' is not a clone folder of the console (<VM path>\VDI-Pools\<pool>\<clone>)." 'VdiFolderRefused' 'InvalidArgument' $Folder)
    }
}
# A clone VM by id, refused when it is not in a clone folder (a wrong id never touches another VM).
function Get-VdiCloneVM([string]$VmId) {
    $vm = Get-VM -Id ([guid]$VmId)
    Assert-VdiCloneFolder ([string]$vm.Path).TrimEnd('\')
    $vm
}
