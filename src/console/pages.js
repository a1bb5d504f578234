// A list the API hands out in keyset pages (tokens, events), shown a page at a time with
// Newer / Older buttons. A module of console.js.
import { el, showNotice } from './forms.js'
import { plainWords } from './messages.js'

export class PagedList {
  /**
   * `fetchPage(cursor)` asks the API for one page ({items, nextCursor}); `render(items)` makes
   * its table (or its empty message); `live()` says whether the page may still draw (false
   * once signed out); `noun` names the items in messages ("API token").
   */
  constructor({ container, noun, fetchPage, render, live }) {
    Object.assign(this, { container, noun, fetchPage, renderItems: render, live })
    this.reset()
  }

  reset() {
    this.cursors = [null] // cursors[i] starts page i
    this.page = 0
    this.generation = (this.generation ?? 0) + 1
  }

  /**
   * Loads the current page. Each load has a generation: an answer that arrives after a newer
   * load began, or after a sign-out (which resets the list), is dropped, so a slow page can
   * neither overwrite a newer one nor speak up on the sign-in view.
   */
  async load() {
    const generation = ++this.generation
    const current = () => generation === this.generation && this.live()
    this.container.setAttribute('aria-busy', 'true')
    try {
      const { items, nextCursor } = await this.fetchPage(this.cursors[this.page])
      if (!current()) return
      // A revoke can empty the last page: step back rather than show an empty one.
      if (items.length === 0 && this.page > 0) {
        this.page -= 1
        return this.load()
      }
      this.cursors.length = this.page + 1
      if (nextCursor) this.cursors.push(nextCursor)
      this.render(items)
    } catch (error) {
      if (!error.handled && current()) showNotice(`Could not load your ${this.noun}s. ${plainWords(error, 'list')}`)
    } finally {
      if (generation === this.generation) this.container.removeAttribute('aria-busy')
    }
  }

  render(items) {
    const shown = this.renderItems(items)
    if (items.length === 0) return this.container.replaceChildren(shown)
    const pager = el('nav', { class: 'pager', 'aria-label': `${this.noun}s pages` })
    const newer = el('button', { type: 'button', class: 'newer', text: '← Newer' })
    const older = el('button', { type: 'button', class: 'older', text: 'Older →' })
    newer.disabled = this.page === 0
    older.disabled = this.cursors.length <= this.page + 1
    newer.addEventListener('click', () => this.go(-1))
    older.addEventListener('click', () => this.go(1))
    pager.append(newer, el('span', { class: 'page', text: `Page ${this.page + 1}` }), older)
    pager.hidden = newer.disabled && older.disabled
    this.container.replaceChildren(el('div', { class: 'table-wrap' }, shown), pager)
  }

  async go(step) {
    this.page += step
    await this.load()
    // The pager was drawn anew: keep a keyboard user's focus on it.
    const same = this.container.querySelector(step > 0 ? '.older' : '.newer')
    ;(same && !same.disabled ? same : this.container.querySelector('.pager button:not(:disabled)'))?.focus()
  }
}

/** A table of `rows` under `columns` (an 'Actions' column's head is for screen readers only). */
export function table(caption, columns, rows) {
  const head = el('thead', {}, el('tr', {}, ...columns.map((name) =>
    name === 'Actions' ? el('th', { scope: 'col' }, el('span', { class: 'visually-hidden', text: name })) : el('th', { scope: 'col', text: name }))))
  return el('table', {}, el('caption', { class: 'visually-hidden', text: caption }), head, el('tbody', {}, ...rows))
}
