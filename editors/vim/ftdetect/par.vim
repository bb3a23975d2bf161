" parc build specs: *.par files, and build.par in particular.
autocmd BufNewFile,BufRead *.par setfiletype par
