" Write the filetype, some buffer options and the syntax group of every byte
" of the current buffer to the file named by g:dump_path, as JSON.
" lines[l][c] is the group at line l+1, byte column c+1 (innermost item, with
" transparent items resolved), and linked[l][c] the highlight group it links to.
let s:lines = []
let s:linked = []
for s:lnum in range(1, line('$'))
  let s:names = []
  let s:links = []
  for s:col in range(1, max([col([s:lnum, '$']) - 1, 0]))
    let s:id = synID(s:lnum, s:col, 1)
    call add(s:names, synIDattr(s:id, 'name'))
    call add(s:links, synIDattr(synIDtrans(s:id), 'name'))
  endfor
  call add(s:lines, s:names)
  call add(s:linked, s:links)
endfor
let s:result = {
      \ 'filetype': &filetype,
      \ 'syntax': get(b:, 'current_syntax', ''),
      \ 'commentstring': &commentstring,
      \ 'iskeyword': &iskeyword,
      \ 'lines': s:lines,
      \ 'linked': s:linked,
      \ }
call writefile([json_encode(s:result)], g:dump_path)
