"""Signing in and out, registering, and a person's own password."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from trainapp.accounts import services
from trainapp.accounts.access import public, signed_in
from trainapp.accounts.forms import (
    AccessRequestForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    RegisterDetailsForm,
    RegisterEmailForm,
    ResetPasswordForm,
    SignInForm,
)
from trainapp.accounts.models import User
from trainapp.acting import act
from trainapp.errors import DomainError, InvalidToken
from trainapp.extensions import db
from trainapp.forms import ConfirmForm, show_domain_error
from trainapp.security import safe_next

bp = Blueprint("auth", __name__)

REGISTER_EMAIL_KEY = "register_email"


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr or "unknown")
        except DomainError as error:
            db.session.commit()  # keep the failed attempt, so throttling counts it
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            session.clear()
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(url_for("core.home")))
    return render_template("accounts/sign_in.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@public
def sign_out():
    form = ConfirmForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        services.sign_out(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/register", methods=["GET", "POST"])
@public
def register():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = RegisterEmailForm()
    if form.validate_on_submit():
        try:
            email = services.normalise_email(form.email.data)
            if services.find_user_by_email(email) is not None:
                raise DomainError(
                    "An account already exists for this email address. Sign in, or reset "
                    "your password if you have forgotten it",
                    "email",
                )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            session[REGISTER_EMAIL_KEY] = email
            if services.agencies_for_domain(services.domain_of(email)):
                return redirect(url_for("auth.register_details"))
            return redirect(url_for("auth.request_access"))
    return render_template("accounts/register_email.html", form=form)


def _registering_email() -> str | None:
    return session.get(REGISTER_EMAIL_KEY)


def _sign_in_afresh(user: User) -> None:
    """A new account starts a new browser session: nothing from before signing in carries over."""
    session.clear()
    login_user(user)


def _registered(user: User) -> str:
    assert user.agency is not None, "registering through an agency's domain always gives that agency"
    return f"Your account is ready. You are registered with {user.agency.name}."


def _sign_out_here(_result=None) -> None:
    logout_user()
    session.clear()


@bp.route("/register/details", methods=["GET", "POST"])
@public
def register_details():
    email = _registering_email()
    if email is None:
        return redirect(url_for("auth.register"))
    agencies = services.agencies_for_domain(services.domain_of(email))
    if not agencies:
        return redirect(url_for("auth.request_access"))
    form = RegisterDetailsForm()
    form.agency.choices = [(a.id, a.name) for a in agencies]
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.register(
                email=email,
                name=form.name.data,
                job_title=form.job_title.data,
                password=form.password.data,
                agency_id=form.agency.data,
            ),
            then=_sign_in_afresh,
            success=_registered,
            redirect_to=url_for("core.home"),
        )
        if response is not None:
            return response
    return render_template("accounts/register_details.html", form=form, email=email, several=len(agencies) > 1)


@bp.route("/register/request-access", methods=["GET", "POST"])
@public
def request_access():
    email = _registering_email()
    if email is None:
        return redirect(url_for("auth.register"))
    form = AccessRequestForm()
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.request_access(
                email=email,
                name=form.name.data,
                job_title=form.job_title.data,
                organisation=form.organisation.data,
                password=form.password.data,
            ),
            then=lambda _: session.pop(REGISTER_EMAIL_KEY, None),
            redirect_to=url_for("auth.access_requested"),
        )
        if response is not None:
            return response
    return render_template("accounts/request_access.html", form=form, email=email)


@bp.route("/register/requested")
@public
def access_requested():
    return render_template("accounts/access_requested.html")


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.request_password_reset(form.email.data),
            # The same answer whether or not the account exists.
            success="If an account uses that address, we have emailed it a link to reset the password.",
            redirect_to=url_for("auth.sign_in"),
        )
        if response is not None:
            return response
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    try:
        services.find_reset_token(token)
    except InvalidToken as error:
        return render_template("accounts/reset_invalid.html", message=error.message), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.reset_password(token, form.password.data),
            then=_sign_out_here,
            success="Your password has been changed. Sign in with your new password.",
            redirect_to=url_for("auth.sign_in"),
        )
        if response is not None:
            return response
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/account")
@signed_in
def account():
    return render_template("accounts/account.html", form=ConfirmForm())


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        # The user itself, not the proxy: the audit row records the entity's type.
        user = current_user._get_current_object()
        response = act(
            form,
            lambda: services.change_password(user, current=form.current_password.data, new=form.password.data),
            # Every other session ended with the old token; keep this one going.
            then=lambda _: login_user(user),
            success="Your password has been changed. You have been signed out everywhere else.",
            redirect_to=url_for("auth.account"),
        )
        if response is not None:
            return response
    return render_template("accounts/change_password.html", form=form)
