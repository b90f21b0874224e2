import { css } from 'lit';

/** Every colour and size comes from a custom property with a default, so a host page themes it. */
export const inboxStyles = css`
  :host {
    --_accent: var(--herald-accent, #1565c0);
    --_bg: var(--herald-bg, #fff);
    --_fg: var(--herald-fg, #1f2328);
    --_muted: var(--herald-muted, #656d76);
    --_border: var(--herald-border, #d0d7de);
    --_unread-bg: var(--herald-unread-bg, #f1f6fd);
    --_badge-bg: var(--herald-badge-bg, #cf222e);
    --_badge-fg: var(--herald-badge-fg, #fff);
    --_radius: var(--herald-radius, 8px);
    display: inline-block;
    position: relative;
    font: var(--herald-font, 14px/1.45 system-ui, sans-serif);
    color: var(--_fg);
  }
  :host([inline]) {
    display: block;
  }
  button {
    font: inherit;
    cursor: pointer;
  }
  .bell {
    position: relative;
    background: none;
    border: 1px solid transparent;
    border-radius: var(--_radius);
    padding: 6px;
    color: inherit;
    line-height: 0;
  }
  .bell:focus-visible,
  button:focus-visible {
    outline: 2px solid var(--_accent);
  }
  .bell svg {
    width: 22px;
    height: 22px;
  }
  .badge {
    position: absolute;
    top: -2px;
    right: -4px;
    min-width: 18px;
    padding: 0 5px;
    box-sizing: border-box;
    border-radius: 9px;
    background: var(--_badge-bg);
    color: var(--_badge-fg);
    font-size: 11px;
    font-weight: 600;
    line-height: 18px;
    text-align: center;
  }
  .inline-badge {
    position: static;
    display: inline-block;
    margin-left: 6px;
    vertical-align: 1px;
  }
  .panel {
    position: absolute;
    right: 0;
    z-index: 10;
    width: var(--herald-panel-width, 22rem);
    max-height: var(--herald-panel-height, 28rem);
    overflow: auto;
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    box-shadow: 0 8px 24px rgb(0 0 0 / 12%);
  }
  :host([inline]) .panel {
    position: static;
    width: auto;
    box-shadow: none;
  }
  header {
    display: flex;
    align-items: center;
    justify-content: space-between;
    padding: 10px 12px;
    border-bottom: 1px solid var(--_border);
  }
  h2 {
    margin: 0;
    font-size: 1em;
  }
  .link {
    background: none;
    border: 0;
    color: var(--_accent);
    padding: 2px 4px;
  }
  .link:disabled {
    color: var(--_muted);
    cursor: default;
  }
  .note {
    margin: 0;
    padding: 10px 12px;
    color: var(--_muted);
  }
  .note.error {
    color: var(--_badge-bg);
  }
  .empty {
    padding: 32px 12px;
    text-align: center;
  }
  ul {
    list-style: none;
    margin: 0;
    padding: 0;
  }
  li {
    display: flex;
    gap: 8px;
    padding: 10px 12px;
    border-bottom: 1px solid var(--_border);
    cursor: pointer;
  }
  li.unread {
    background: var(--_unread-bg);
  }
  .dot {
    flex: none;
    width: 8px;
    height: 8px;
    margin-top: 6px;
    border-radius: 50%;
  }
  li.unread .dot {
    background: var(--_accent);
  }
  .text {
    flex: 1;
    min-width: 0;
  }
  .title {
    font-weight: 600;
  }
  li.read .title {
    font-weight: 400;
  }
  .body {
    overflow-wrap: anywhere;
  }
  time {
    color: var(--_muted);
    font-size: 0.85em;
  }
  .item-actions {
    display: flex;
    flex-direction: column;
    align-items: flex-end;
    gap: 2px;
  }
  .action {
    border: 1px solid var(--_accent);
    border-radius: var(--_radius);
    background: var(--_bg);
    color: var(--_accent);
    padding: 1px 8px;
  }
  .action.primary {
    background: var(--_accent);
    color: var(--_bg);
  }
  .done {
    color: var(--_muted);
    font-size: 0.85em;
  }
  li.severity-high,
  li.severity-critical {
    box-shadow: inset 3px 0 0 var(--_badge-bg);
  }
  li.unseen .title::after {
    content: ' •';
    color: var(--_accent);
  }
  .tabs {
    display: flex;
    gap: 4px;
    padding: 6px 12px;
    border-bottom: 1px solid var(--_border);
  }
  .tab {
    background: none;
    border: 1px solid transparent;
    border-radius: var(--_radius);
    padding: 2px 8px;
    color: var(--_muted);
  }
  .tab.active {
    border-color: var(--_border);
    color: var(--_fg);
  }
  .tab-count {
    color: var(--_badge-bg);
    font-weight: 600;
  }
  .preferences fieldset {
    margin: 0 12px 10px;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
  }
  .switch {
    display: flex;
    gap: 6px;
    padding: 3px 0;
  }
  .back {
    margin: 0 8px 10px;
  }
  .more {
    display: block;
    width: 100%;
    padding: 10px;
    background: none;
    border: 0;
    color: var(--_accent);
  }
`;
