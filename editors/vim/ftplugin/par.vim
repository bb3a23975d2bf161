" Vim filetype plugin for parc build specs (.par files).

if exists("b:did_ftplugin")
  finish
endif
let b:did_ftplugin = 1

" Names may contain `-` (`run-tests`), so word motions and `*` take them whole.
setlocal iskeyword=@,48-57,_,-
setlocal comments=:# commentstring=#\ %s
setlocal formatoptions-=t formatoptions+=croql

let b:undo_ftplugin = "setlocal iskeyword< comments< commentstring< formatoptions<"
