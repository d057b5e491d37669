"""One module per op, each with `handle(params, context) -> result dict`.

Handlers only orchestrate: the catalog package owns every file read and write, the civitai
package every HTTP call. They raise HostError subclasses; host.dispatch turns them into
error replies.
"""
