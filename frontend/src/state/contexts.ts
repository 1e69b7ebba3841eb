/** What <agora-app> provides to every component below it. */
import { createContext } from "@lit/context";
import type { ApiClient } from "../api/client";
import type { LiveConnection } from "../api/live";
import type { CartStore } from "./cart";
import type { GuestOrderStore } from "./guest-orders";
import type { SessionStore } from "./session";
import type { ToastStore } from "./toasts";

export const apiContext = createContext<ApiClient>(Symbol("agora.api"));
export const sessionContext = createContext<SessionStore>(Symbol("agora.session"));
export const cartContext = createContext<CartStore>(Symbol("agora.cart"));
export const guestOrdersContext = createContext<GuestOrderStore>(Symbol("agora.guest-orders"));
export const liveContext = createContext<LiveConnection>(Symbol("agora.live"));
export const toastContext = createContext<ToastStore>(Symbol("agora.toasts"));
