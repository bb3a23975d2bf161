" Vim syntax file for parc build specs (.par files).
"
" Keywords are reserved everywhere, so they are matched without context.
" Outside `let`, `env` and `pool`, every other name names a step: in a
" `track` or `integrate` header, or in an `after` or `default` list.

if exists("b:current_syntax")
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

" Triple-quoted strings span lines: parse from the top so a line in the middle
" of one is never taken for code.
syntax sync fromstart

" Names contain `-`, so `run-tests` is one word and not the keyword `run`.
syntax iskeyword @,48-57,_,-

syntax keyword parKeyword let env pool default track integrate after
syntax keyword parKeyword desc reads owns run cwd timeout retries

syntax match parStepName /\%([[:alnum:]_-]\)\@1<!\h[[:alnum:]_-]*/
syntax match parVariable /\%(\%([[:alnum:]_-]\)\@1<!let\s\+\)\@<=\h[[:alnum:]_-]*/
syntax match parEnvName /\%(\%([[:alnum:]_-]\)\@1<!env\s\+\)\@<=\h[[:alnum:]_-]*/
syntax match parPoolName /\%(\%([[:alnum:]_-]\)\@1<!pool\s\+\)\@<=\h[[:alnum:]_-]*/

syntax match parInteger /\%([[:alnum:]_.-]\)\@1<!\d\+\%([[:alnum:]_.-]\)\@!/
syntax match parDuration /\%([[:alnum:]_.-]\)\@1<!\d\+\%(\.\d\+\)\=\%(ms\|s\|m\|h\)\%([[:alnum:]_-]\)\@!/

syntax match parOperator /=/
syntax match parDelimiter /[,{}]/

" Inside strings. Of several items that match at one place, Vim takes the one
" defined last, so `{{{{` and `{{name}}` win over a bad `{{`.
syntax match parBadEscape /\\.\=/ contained
syntax match parEscape /\\["\\nt]/ contained
syntax match parBadInterpolation /{{/ contained
syntax match parInterpolation /{{[ \t]*\h[[:alnum:]_-]*[ \t]*}}/ contained
syntax match parEscape /{{{{/ contained
syntax cluster parStringContent contains=parEscape,parBadEscape,parInterpolation,parBadInterpolation

" A one-line string ends at the end of its line even when its quote is
" missing, so the next line is highlighted as code.
syntax region parString start=/"/ end=/"/ end=/$/ contains=@parStringContent
syntax region parLongString start=/"""/ end=/"""/ contains=@parStringContent

syntax keyword parTodo TODO FIXME XXX NOTE contained
syntax match parComment /#.*$/ contains=parTodo

highlight default link parKeyword Keyword
highlight default link parStepName Function
highlight default link parVariable Identifier
highlight default link parEnvName Identifier
highlight default link parPoolName Constant
highlight default link parInteger Number
highlight default link parDuration Number
highlight default link parOperator Operator
highlight default link parDelimiter Delimiter
highlight default link parString String
highlight default link parLongString String
highlight default link parEscape SpecialChar
highlight default link parBadEscape Error
highlight default link parInterpolation Identifier
highlight default link parBadInterpolation Error
highlight default link parComment Comment
highlight default link parTodo Todo

let b:current_syntax = "par"

let &cpo = s:cpo_save
unlet s:cpo_save
