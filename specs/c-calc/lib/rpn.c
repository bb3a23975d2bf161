#include "rpn.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define RPN_STACK_SIZE 64

static int apply(char op, long left, long right, long *out)
{
    switch (op) {
    case '+':
        if ((right > 0 && left > LONG_MAX - right) || (right < 0 && left < LONG_MIN - right))
            return RPN_OVERFLOW;
        *out = left + right;
        return RPN_OK;
    case '-':
        if ((right < 0 && left > LONG_MAX + right) || (right > 0 && left < LONG_MIN + right))
            return RPN_OVERFLOW;
        *out = left - right;
        return RPN_OK;
    case '*':
        if (__builtin_mul_overflow(left, right, out))
            return RPN_OVERFLOW;
        return RPN_OK;
    case '/':
    case '%':
        if (right == 0)
            return RPN_DIVIDE_BY_ZERO;
        if (left == LONG_MIN && right == -1)
            return RPN_OVERFLOW;
        *out = op == '/' ? left / right : left % right;
        return RPN_OK;
    default:
        return RPN_BAD_TOKEN;
    }
}

enum rpn_status rpn_eval(const char *expression, long *result)
{
    long stack[RPN_STACK_SIZE];
    int depth = 0;
    const char *p = expression;

    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;

        const char *start = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        size_t length = (size_t)(p - start);

        if (length == 1 && strchr("+-*/%", *start)) {
            if (depth < 2)
                return RPN_UNDERFLOW;
            long value;
            int status = apply(*start, stack[depth - 2], stack[depth - 1], &value);
            if (status != RPN_OK)
                return (enum rpn_status)status;
            depth -= 2;
            stack[depth++] = value;
            continue;
        }

        char token[32];
        if (length >= sizeof token)
            return RPN_BAD_TOKEN;
        memcpy(token, start, length);
        token[length] = '\0';

        char *end;
        errno = 0;
        long value = strtol(token, &end, 10);
        if (*end != '\0')
            return RPN_BAD_TOKEN;
        if (errno == ERANGE)
            return RPN_OVERFLOW;
        if (depth == RPN_STACK_SIZE)
            return RPN_OVERFLOW;
        stack[depth++] = value;
    }

    if (depth == 0)
        return RPN_EMPTY;
    if (depth > 1)
        return RPN_LEFTOVER;
    *result = stack[0];
    return RPN_OK;
}

const char *rpn_strerror(enum rpn_status status)
{
    switch (status) {
    case RPN_OK:
        return "ok";
    case RPN_EMPTY:
        return "empty expression";
    case RPN_UNDERFLOW:
        return "an operator is missing operands";
    case RPN_LEFTOVER:
        return "values are left over; an operator is missing";
    case RPN_BAD_TOKEN:
        return "invalid token";
    case RPN_DIVIDE_BY_ZERO:
        return "division by zero";
    case RPN_OVERFLOW:
        return "number out of range";
    }
    return "unknown error";
}
