/* rpn: evaluate integer expressions in reverse Polish notation. */
#ifndef RPN_H
#define RPN_H

enum rpn_status {
    RPN_OK = 0,
    RPN_EMPTY,           /* no tokens at all */
    RPN_UNDERFLOW,       /* an operator lacks operands */
    RPN_LEFTOVER,        /* more than one value remains at the end */
    RPN_BAD_TOKEN,       /* neither a number nor an operator */
    RPN_DIVIDE_BY_ZERO,
    RPN_OVERFLOW         /* too many values on the stack, or a result out of range */
};

/* Evaluate `expression`, tokens separated by spaces: numbers and + - * / %.
   On RPN_OK the value is stored in *result. */
enum rpn_status rpn_eval(const char *expression, long *result);

/* A short English description of a status, for messages. */
const char *rpn_strerror(enum rpn_status status);

#endif
