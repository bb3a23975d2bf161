/* rpn: print the value of each argument, an expression in reverse Polish notation. */
#include <stdio.h>

#include "rpn.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rpn EXPRESSION...\n  example: rpn \"2 3 4 * +\"\n");
        return 2;
    }
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        long value;
        enum rpn_status status = rpn_eval(argv[i], &value);
        if (status == RPN_OK) {
            printf("%ld\n", value);
        } else {
            fprintf(stderr, "rpn: %s: %s\n", argv[i], rpn_strerror(status));
            failed = 1;
        }
    }
    return failed;
}
