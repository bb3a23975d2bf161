/* Unit tests of the rpn library: each case gives an expression and the expected outcome. */
#include <limits.h>
#include <stdio.h>

#include "rpn.h"

struct example {
    const char *expression;
    enum rpn_status status;
    long value;
};

static const struct example examples[] = {
    {"2 3 +", RPN_OK, 5},
    {"2 3 4 * +", RPN_OK, 14},
    {"10 4 -", RPN_OK, 6},
    {"-7 2 /", RPN_OK, -3},
    {"-7 2 %", RPN_OK, -1},
    {"  42  ", RPN_OK, 42},
    {"", RPN_EMPTY, 0},
    {"+", RPN_UNDERFLOW, 0},
    {"1 2", RPN_LEFTOVER, 0},
    {"1 x +", RPN_BAD_TOKEN, 0},
    {"1 0 /", RPN_DIVIDE_BY_ZERO, 0},
    {"9223372036854775807 1 +", RPN_OVERFLOW, 0},
    {"-9223372036854775808 -1 /", RPN_OVERFLOW, 0},
    {"99999999999999999999", RPN_OVERFLOW, 0},
};

int main(void)
{
    int failures = 0;
    size_t count = sizeof examples / sizeof examples[0];
    for (size_t i = 0; i < count; i++) {
        long value = LONG_MIN;
        enum rpn_status status = rpn_eval(examples[i].expression, &value);
        int ok = status == examples[i].status &&
                 (status != RPN_OK || value == examples[i].value);
        if (!ok) {
            printf("FAIL \"%s\": status %d value %ld, expected status %d value %ld\n",
                   examples[i].expression, status, value, examples[i].status,
                   examples[i].value);
            failures++;
        }
    }
    printf("%zu cases, %d failures\n", count, failures);
    return failures != 0;
}
