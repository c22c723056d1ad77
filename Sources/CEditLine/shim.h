#include <stdio.h>
#include <wchar.h>
#include <histedit.h>
#include <editline/readline.h>

/* el_set and history are variadic, which Swift cannot call: one fixed-argument wrapper per
   use. Each names the libedit request it makes. */

/* el_set(EL_PROMPT): the prompt function. */
static inline int snapdex_el_set_prompt(EditLine *el, char *(*prompt)(EditLine *)) {
    return el_set(el, EL_PROMPT, prompt);
}
/* el_set(EL_EDITOR, "emacs"). */
static inline int snapdex_el_set_emacs(EditLine *el) { return el_set(el, EL_EDITOR, "emacs"); }
/* el_set(EL_ADDFN): a named editor function. */
static inline int snapdex_el_add_function(EditLine *el, const char *name, const char *help,
                                          unsigned char (*fn)(EditLine *, int)) {
    return el_set(el, EL_ADDFN, name, help, fn);
}
/* el_set(EL_BIND, key, function, NULL). */
static inline int snapdex_el_bind(EditLine *el, const char *key, const char *function) {
    return el_set(el, EL_BIND, key, function, NULL);
}
/* el_set(EL_GETCFN): the function that reads one character. */
static inline int snapdex_el_set_getc(EditLine *el, int (*getc)(EditLine *, wchar_t *)) {
    return el_set(el, EL_GETCFN, getc);
}
/* el_set(EL_HIST, history, h). */
static inline int snapdex_el_set_history(EditLine *el, History *h) { return el_set(el, EL_HIST, history, h); }
/* history(H_SETSIZE) and history(H_SETUNIQUE). */
static inline void snapdex_history_setup(History *h, int size) {
    HistEvent ev;
    history(h, &ev, H_SETSIZE, size);
    history(h, &ev, H_SETUNIQUE, 1);
}
/* history(H_ENTER, line). */
static inline void snapdex_history_enter(History *h, const char *line) {
    HistEvent ev;
    history(h, &ev, H_ENTER, line);
}
/* history(H_LOAD, file) and history(H_SAVE, file). */
static inline void snapdex_history_load(History *h, const char *file) {
    HistEvent ev;
    history(h, &ev, H_LOAD, file);
}
static inline void snapdex_history_save(History *h, const char *file) {
    HistEvent ev;
    history(h, &ev, H_SAVE, file);
}
